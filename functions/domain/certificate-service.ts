/**
 * Sender certificates (docs/SERVICE.md §6, docs/PROTOCOL.md §6.2): short-lived
 * statements, signed by the server key, that a device holds a DH identity key. The server
 * certificate chains the server key to the trust root clients pin.
 */

import {
  decodeIdentityBundle,
  encodeSenderCertificate,
  senderCertificatePayload,
} from 'sealpost/wire';
import type { SenderCertificateResponse, ServerCertificateResponse } from 'sealpost/wire/api';
import { toBase64Url } from 'sealpost/wire/api';
import type { Caller } from './auth-service.ts';
import type { ServiceConfig } from './config.ts';
import { ed25519Sign } from './crypto.ts';
import type { Clock, SigningKeyProvider } from './ports.ts';

/** Publishes the server certificate and issues sender certificates. */
export class CertificateService {
  constructor(
    private readonly keys: SigningKeyProvider,
    private readonly clock: Clock,
    private readonly config: ServiceConfig,
  ) {}

  /** The server certificate and the trust root public key. */
  async serverCertificate(): Promise<ServerCertificateResponse> {
    const m = await this.keys.get();
    return {
      keyId: m.keyId,
      serverCertificate: toBase64Url(m.serverCertificate),
      trustRoot: toBase64Url(m.trustRoot),
    };
  }

  /**
   * A sender certificate for the caller's device, valid for the configured lifetime (24 hours by
   * default), naming the device's DH identity key from its registered IdentityBundle.
   */
  async issue(caller: Caller): Promise<SenderCertificateResponse> {
    const m = await this.keys.get();
    const fields = {
      address: caller.address,
      deviceId: caller.deviceId,
      identityKey: decodeIdentityBundle(caller.device.identity).dhPublic,
      expires: this.clock() + this.config.senderCertificateLifetimeMs,
      serverCertificate: m.serverCertificate,
    };
    const signature = ed25519Sign(m.serverSeed, senderCertificatePayload(fields));
    return {
      certificate: toBase64Url(encodeSenderCertificate({ ...fields, signature })),
      expires: fields.expires,
    };
  }
}
