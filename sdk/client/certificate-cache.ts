/**
 * The sender certificate of this device (docs/SDK.md §Prekeys and certificates): fetched from
 * the service, checked against the pinned trust root and this device's own identity before it
 * is used, cached in the store, and refreshed when less than half of its 24-hour life is left.
 * A recipient judges a certificate at the end of the hour the server received the message in
 * (`receivedAt` is rounded down to the hour), so a certificate must outlive the send by more
 * than that hour; the 12-hour margin also covers clocks that are hours apart.
 */
import type { CryptoBackend } from '../crypto/backend.ts';
import { InvalidCertificateError } from '../errors.ts';
import { type TrustConfig, validateSenderCertificate } from '../protocol/certificates.ts';
import { constantTimeEqual } from '../util/bytes.ts';
import { fromBase64Url } from '../wire/api/codec.ts';
import type { CallOptions } from './call-options.ts';
import type { CachedCertificate, ClientState, Registration } from './client-state.ts';
import type { SealpostHttpClient } from './http-client.ts';

/** A certificate is replaced when less than this much of its lifetime is left (12 hours). */
export const CERTIFICATE_REFRESH_MARGIN_MS = 12 * 60 * 60 * 1000;

/** Holds and refreshes this device's sender certificate. */
export class CertificateCache {
  private cached: CachedCertificate | undefined;

  constructor(
    private readonly ctx: {
      readonly http: SealpostHttpClient;
      readonly state: ClientState;
      readonly backend: CryptoBackend;
      readonly trust: TrustConfig;
      readonly now: () => number;
      readonly self: Registration;
      /** This device's X25519 identity key, which the certificate must name. */
      readonly dhPublic: Uint8Array;
      /** This device's franking key, which the certificate must name (PROTOCOL.md §11.1). */
      readonly frankingKey: Uint8Array;
      /** Takes the moderator certificate that comes with each sender certificate. */
      readonly moderators: { add(certificates: readonly Uint8Array[]): Promise<unknown> };
    },
  ) {}

  /**
   * A certificate valid for at least {@link CERTIFICATE_REFRESH_MARGIN_MS}, fetching a new one
   * when needed.
   *
   * @throws {InvalidCertificateError} if the service issues a certificate that does not chain
   *   to the pinned root or names another device.
   * @throws {ApiError | NetworkError} if the fetch fails.
   */
  async current(call?: CallOptions): Promise<Uint8Array> {
    this.cached ??= await this.ctx.state.certificate();
    if (this.cached && this.cached.expires - this.ctx.now() > CERTIFICATE_REFRESH_MARGIN_MS) {
      return this.cached.certificate;
    }
    return (await this.refresh(call)).certificate;
  }

  /**
   * Fetches, checks and stores a new certificate now.
   *
   * @throws {InvalidCertificateError | ApiError | NetworkError} as {@link current}.
   */
  async refresh(call?: CallOptions): Promise<CachedCertificate> {
    const res = await this.ctx.http.senderCertificate(call);
    const certificate = fromBase64Url(res.certificate, 'certificate');
    const cert = await validateSenderCertificate(
      this.ctx.backend,
      certificate,
      this.ctx.trust,
      this.ctx.now(),
    );
    if (
      cert.address !== this.ctx.self.address ||
      cert.deviceId !== this.ctx.self.deviceId ||
      !constantTimeEqual(cert.identityKey, this.ctx.dhPublic) ||
      !constantTimeEqual(cert.frankingKey, this.ctx.frankingKey)
    ) {
      throw new InvalidCertificateError('the issued certificate names another device');
    }
    const cached = { certificate, expires: cert.expires };
    await this.ctx.state.saveCertificate(cached);
    this.cached = cached;
    await this.ctx.moderators.add([
      fromBase64Url(res.moderatorCertificate, 'moderatorCertificate'),
    ]);
    return cached;
  }
}
