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
import { assertNotSuspended } from './suspension-service.ts';

/** Publishes the server certificate and issues sender certificates. */
export class CertificateService {
  constructor(
    private readonly keys: SigningKeyProvider,
    private readonly clock: Clock,
    private readonly config: ServiceConfig,
  ) {}

  /**
   * The server certificate, the trust root public key, and the moderator certificates clients
   * frank for (docs/PROTOCOL.md §11.2), the current one first.
   */
  async serverCertificate(): Promise<ServerCertificateResponse> {
    const m = await this.keys.get();
    return {
      keyId: m.keyId,
      serverCertificate: toBase64Url(m.serverCertificate),
      trustRoot: toBase64Url(m.trustRoot),
      moderatorCertificates: [toBase64Url(m.moderatorCertificate)],
    };
  }

  /**
   * A sender certificate for the caller's device, valid for the configured lifetime (24 hours by
   * default), naming the device's DH identity key from its registered IdentityBundle and its
   * registered franking key (version 2, docs/PROTOCOL.md §11.1), with the current moderator
   * certificate.
   */
  async issue(caller: Caller): Promise<SenderCertificateResponse> {
    // A suspended account gets no new certificates; its old ones are revoked (§14.6).
    assertNotSuspended(caller.view.account);
    const m = await this.keys.get();
    const fields = {
      address: caller.address,
      deviceId: caller.deviceId,
      identityKey: decodeIdentityBundle(caller.device.identity).dhPublic,
      frankingKey: caller.device.frankingKey,
      expires: this.clock() + this.config.senderCertificateLifetimeMs,
      serverCertificate: m.serverCertificate,
    };
    const signature = ed25519Sign(m.serverSeed, senderCertificatePayload(fields));
    return {
      certificate: toBase64Url(encodeSenderCertificate({ ...fields, signature })),
      expires: fields.expires,
      moderatorCertificate: toBase64Url(m.moderatorCertificate),
    };
  }
}
