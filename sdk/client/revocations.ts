/**
 * Suspended senders (docs/SDK.md §Suspended senders): the service's signed revocation list
 * (`GET /v1/certificates/revocations`, layout in `sdk/wire/revocations.ts`) names accounts the
 * operator suspended. A suspended account gets no new sender certificate, but the ones it holds
 * stay valid for up to a day, and sealed sends are not attributable to it on the server; so the
 * recipient drops sealed messages whose certificate names a listed account and that the service
 * received no earlier than an hour before the suspension (`receivedAt` is rounded down to the
 * hour).
 *
 * The list is fetched before a batch of delivered messages is processed, at most every
 * `revocationRefreshMs`; it is verified with the server key of a server certificate that chains
 * to the pinned trust root (the one inside this device's own sender certificate, else the
 * service's current one), and a list issued before the one held is ignored. A failed fetch or a
 * list that does not verify keeps the held list. Online clients therefore stop showing a
 * suspended account's messages within `revocationRefreshMs` plus the service's 60 s cache.
 *
 * The service lists a suspension until it is lifted or until nothing the account sent under a
 * certificate issued before it can still be delivered (the certificate lifetime plus the
 * message lifetime), so the latest list is authoritative: an account it does not name is not
 * suspended.
 *
 * | namespace | key | value |
 * |---|---|---|
 * | meta | `revocations` | `u8 1 \|\| u64 issuedAt \|\| u16 n \|\| n × (address(20) \|\| u64 suspendedAt)` |
 */
import type { CryptoBackend } from '../crypto/backend.ts';
import { StateCorruptError } from '../errors.ts';
import type { TrustConfig } from '../protocol/certificates.ts';
import type { StateStore } from '../state/store.ts';
import { ArgumentRangeError } from '../util/argument-errors.ts';
import { ByteReader, ByteWriter, concatBytes } from '../util/bytes.ts';
import { fromBase64Url } from '../wire/api/codec.ts';
import { RECEIVED_AT_PRECISION_MS } from '../wire/api/limits.ts';
import { decodeServerCertificate, serverCertificatePayload } from '../wire/certificates.ts';
import { ADDRESS_BYTES, addressFromBytes, addressToBytes } from '../wire/identity.ts';
import { LABELS } from '../wire/labels.ts';
import { decodeRevocationList, MAX_REVOCATIONS, type RevocationList } from '../wire/revocations.ts';
import type { CallOptions } from './call-options.ts';
import { SenderSuspendedError } from './errors.ts';

/** How often the list is fetched at most (ms). @default */
export const DEFAULT_REVOCATION_REFRESH_MS = 600_000;
/** Bounds of the `revocationRefreshMs` option (ms): 1 s to 1 day. */
export const MIN_REVOCATION_REFRESH_MS = 1_000;
export const MAX_REVOCATION_REFRESH_MS = 86_400_000;
/** Messages received this long before a suspension are dropped too: `receivedAt` is per hour. */
export const SUSPENSION_MARGIN_MS = RECEIVED_AT_PRECISION_MS;

const KEY = 'revocations';
const VERSION = 1;
const SIGNATURE_BYTES = 64;

/**
 * The `revocationRefreshMs` client option with its default.
 *
 * @example revocationRefreshMs(undefined) // 600000
 * @throws {ArgumentRangeError} outside 1,000..86,400,000 or not an integer.
 */
export function revocationRefreshMs(value: number | undefined): number {
  const ms = value ?? DEFAULT_REVOCATION_REFRESH_MS;
  if (!Number.isInteger(ms) || ms < MIN_REVOCATION_REFRESH_MS || ms > MAX_REVOCATION_REFRESH_MS) {
    throw new ArgumentRangeError(
      `revocationRefreshMs must be an integer from ${MIN_REVOCATION_REFRESH_MS} to ${MAX_REVOCATION_REFRESH_MS}`,
    );
  }
  return ms;
}

/** The HTTP operations used here. */
export interface RevocationHttp {
  certificateRevocations(call?: CallOptions): Promise<{ readonly revocations: string }>;
  serverCertificate(call?: CallOptions): Promise<{ readonly serverCertificate: string }>;
}

/**
 * The server key of a server certificate that chains to the pinned trust root, is not revoked
 * and has not expired at `now`; undefined otherwise.
 *
 * @example const key = await trustedServerKey(backend, trust, certificateBytes, Date.now());
 */
export async function trustedServerKey(
  backend: CryptoBackend,
  trust: TrustConfig,
  certificate: Uint8Array,
  now: number,
): Promise<Uint8Array | undefined> {
  let cert: ReturnType<typeof decodeServerCertificate>;
  try {
    cert = decodeServerCertificate(certificate);
  } catch {
    return undefined;
  }
  if (trust.revokedServerKeyIds.includes(cert.keyId) || now > cert.notAfter) return undefined;
  const ok = await backend.ed25519Verify(
    trust.trustRoot,
    serverCertificatePayload(cert),
    cert.signature,
  );
  return ok ? cert.serverPublic : undefined;
}

/** The revocation list of one client. */
export class Revocations {
  private issuedAt = -1;
  /** Suspension time by suspended address, from the held list. */
  private held = new Map<string, number>();
  private attemptedAt = Number.NEGATIVE_INFINITY;
  /** The key of the service's current server certificate, once fetched and validated. */
  private fetchedKey: Uint8Array | undefined;

  constructor(
    private readonly ctx: {
      readonly http: RevocationHttp;
      readonly store: StateStore;
      readonly backend: CryptoBackend;
      readonly trust: TrustConfig;
      readonly now: () => number;
      readonly refreshMs: number;
      /** The server certificate inside this device's cached sender certificate, if any. */
      readonly ownServerCertificate: () => Promise<Uint8Array | undefined>;
    },
  ) {}

  /** Reads the held list from the store (at client open). */
  async load(): Promise<void> {
    const bytes = await this.ctx.store.get('meta', KEY);
    if (bytes === undefined) return;
    const r = new ByteReader(bytes, 'revocations', (m) => new StateCorruptError(m));
    if (r.u8() !== VERSION) throw new StateCorruptError('revocations record version');
    const issuedAt = r.u64();
    const n = r.u16();
    if (n > MAX_REVOCATIONS) throw new StateCorruptError('too many revocations');
    const held = new Map<string, number>();
    for (let i = 0; i < n; i++) {
      const address = addressFromBytes(r.bytes(ADDRESS_BYTES));
      held.set(address, r.u64());
    }
    r.end();
    this.issuedAt = issuedAt;
    this.held = held;
  }

  /** When the held list was issued (ms), or undefined when none is held. */
  get heldIssuedAt(): number | undefined {
    return this.issuedAt < 0 ? undefined : this.issuedAt;
  }

  /**
   * Fetches, verifies and takes the service's list, unless a fetch was tried within
   * `refreshMs`. Never throws: a failure keeps the held list (and reports nothing about who
   * is listed).
   */
  async refresh(call?: CallOptions): Promise<void> {
    const now = this.ctx.now();
    if (now - this.attemptedAt < this.ctx.refreshMs) return;
    this.attemptedAt = now;
    try {
      const res = await this.ctx.http.certificateRevocations(call);
      const bytes = fromBase64Url(res.revocations, 'revocations');
      const list = decodeRevocationList(bytes);
      if (list.issuedAt <= this.issuedAt) return;
      if (!(await this.verified(bytes, list.signature, call))) return;
      await this.take(list);
    } catch {
      // Kept: the held list stays in force until a fetch succeeds.
    }
  }

  /**
   * Refuses a message from `address` received at `receivedAt` if the held list names the
   * account as suspended since no later than an hour after it.
   *
   * @throws {SenderSuspendedError}
   */
  check(address: string, receivedAt: number): void {
    const suspendedAt = this.held.get(address);
    if (suspendedAt === undefined || receivedAt < suspendedAt - SUSPENSION_MARGIN_MS) return;
    throw new SenderSuspendedError(address);
  }

  /** Whether the list's signature verifies with a trusted server key. */
  private async verified(
    bytes: Uint8Array,
    signature: Uint8Array,
    call: CallOptions | undefined,
  ): Promise<boolean> {
    const payload = concatBytes(
      LABELS.REVOCATIONS,
      bytes.subarray(0, bytes.length - SIGNATURE_BYTES),
    );
    const verify = (key: Uint8Array) => this.ctx.backend.ed25519Verify(key, payload, signature);
    const now = this.ctx.now();
    const own = await this.ctx.ownServerCertificate();
    const ownKey =
      own === undefined
        ? undefined
        : await trustedServerKey(this.ctx.backend, this.ctx.trust, own, now);
    if (ownKey !== undefined && (await verify(ownKey))) return true;
    if (this.fetchedKey !== undefined && (await verify(this.fetchedKey))) return true;
    // The service may have rotated its key since: its current certificate, once per refresh.
    const res = await this.ctx.http.serverCertificate(call);
    const fetched = await trustedServerKey(
      this.ctx.backend,
      this.ctx.trust,
      fromBase64Url(res.serverCertificate, 'serverCertificate'),
      now,
    );
    if (fetched === undefined) return false;
    this.fetchedKey = fetched;
    return verify(fetched);
  }

  /** Takes a verified list no older than the held one, and persists it. */
  private async take(list: RevocationList): Promise<void> {
    const kept = new Map<string, number>();
    for (const r of list.revocations) kept.set(r.address, r.suspendedAt);
    const w = new ByteWriter(11 + kept.size * (ADDRESS_BYTES + 8))
      .u8(VERSION)
      .u64(list.issuedAt)
      .u16(kept.size);
    for (const [address, suspendedAt] of kept) w.bytes(addressToBytes(address)).u64(suspendedAt);
    await this.ctx.store.commit([{ ns: 'meta', key: KEY, value: w.finish() }]);
    this.issuedAt = list.issuedAt;
    this.held = kept;
  }
}
