/**
 * Account suspension as the device-facing service sees it (docs/SERVICE.md §14.5, §14.6): the
 * check that refuses a suspended account's certificates, identified sends and uploads, and the
 * signed revocation list that makes recipients stop accepting the account's sender certificates
 * issued before the suspension (they live at most `senderCertificateLifetimeMs`, 24 hours, and
 * what was sent under them waits at most the message lifetime).
 * Operators suspend and lift through the moderation service.
 */
import { encodeRevocationList, MAX_REVOCATIONS, revocationListPayload } from 'sealpost/wire';
import { RECEIVED_AT_PRECISION_MS, type RevocationsResponse, toBase64Url } from 'sealpost/wire/api';
import type { ServiceConfig } from './config.ts';
import { ed25519Sign } from './crypto.ts';
import { ServiceError } from './errors.ts';
import type { AccountRecord, Clock, SigningKeyProvider } from './ports.ts';
import type { SuspensionStore } from './suspension-ports.ts';

/**
 * Refuses a suspended account.
 *
 * @example assertNotSuspended(caller.view.account)
 * @throws {ServiceError} `ACCOUNT_SUSPENDED` (403) while `account.suspendedAt` is set.
 */
export function assertNotSuspended(account: AccountRecord): void {
  if (account.suspendedAt !== undefined) {
    throw new ServiceError('ACCOUNT_SUSPENDED', 'the account is suspended');
  }
}

/**
 * How long a suspension stays in the revocation list: a certificate issued just before it
 * stays valid for its lifetime, a message sent under it waits in a mailbox for the message
 * lifetime, and `receivedAt` is known to the hour. Recipients treat the latest list as
 * complete, so a suspension lifted earlier simply leaves it.
 *
 * @example revocationWindowMs(DEFAULT_CONFIG) // 24 h + 30 days + 1 h
 */
export function revocationWindowMs(config: ServiceConfig): number {
  return config.senderCertificateLifetimeMs + config.messageTtlMs + RECEIVED_AT_PRECISION_MS;
}

/** Builds, signs and caches the revocation list. */
export class SuspensionService {
  private cached: { readonly response: RevocationsResponse; readonly issuedAt: number } | undefined;

  /**
   * @param suspensions - the suspension index; without one the list is signed and empty (a
   *   deployment without moderation ports has no suspensions)
   */
  constructor(
    private readonly suspensions: SuspensionStore | undefined,
    private readonly keys: SigningKeyProvider,
    private readonly clock: Clock,
    private readonly config: ServiceConfig,
  ) {}

  /**
   * The signed list of suspensions in force younger than {@link revocationWindowMs} (after
   * which nothing sent under a certificate issued before them can still be delivered), newest
   * first, at most {@link MAX_REVOCATIONS}. A list is reused for
   * `config.revocationCacheMs` (60 s): a suspension reaches the list within that time.
   *
   * @example const { revocations } = await suspensions.revocations(); // base64url
   */
  async revocations(): Promise<RevocationsResponse> {
    const now = this.clock();
    const cached = this.cached;
    if (cached && now >= cached.issuedAt && now - cached.issuedAt < this.config.revocationCacheMs) {
      return cached.response;
    }
    const material = await this.keys.get();
    const entries = this.suspensions
      ? await this.suspensions.recent(now - revocationWindowMs(this.config), MAX_REVOCATIONS)
      : [];
    const fields = {
      issuedAt: now,
      revocations: entries.map((e) => ({ address: e.address, suspendedAt: e.suspendedAt })),
    };
    const signature = ed25519Sign(material.serverSeed, revocationListPayload(fields));
    const response = { revocations: toBase64Url(encodeRevocationList({ ...fields, signature })) };
    this.cached = { response, issuedAt: now };
    return response;
  }
}
