/**
 * Keeping this device's prekeys on the server topped up (docs/SDK.md §Prekeys; Signal's client
 * policy): count the one-time keys left, refill each kind below a threshold, and rotate the
 * signed prekey and the last-resort KEM prekey on a schedule. Superseded private keys stay in
 * the store for the engine's grace period (`PREKEY_GRACE_MS`), since queued prekey messages
 * may still name them.
 */
import type { ProtocolEngine } from '../protocol/engine.ts';
import { signedPrekeyCreatedAt } from '../protocol/prekey-manager.ts';
import { MAX_PREKEYS_PER_UPLOAD, MAX_STORED_PREKEYS } from '../wire/api/limits.ts';
import type { PrekeyCount } from '../wire/api/schemas.ts';
import type { CallOptions } from './call-options.ts';
import type { SealpostHttpClient } from './http-client.ts';
import { prekeyUploadJson } from './json.ts';
import {
  CLIENT_CAPABILITIES,
  capabilitiesAnnounced,
  capabilitiesAnnouncedOp,
} from './registration.ts';

/** Prekey policy. */
export interface PrekeyPolicy {
  /** Refill a kind when fewer one-time keys than this are left. @default 25 */
  readonly threshold?: number;
  /** One-time keys of each kind generated per refill (at most 100). @default 100 */
  readonly batch?: number;
  /** Rotate the signed and last-resort prekeys when older than this. @default 7 days */
  readonly rotationMs?: number;
}

/** What a maintenance run did. */
export interface PrekeyMaintenance {
  /** One-time keys on the server after the run. */
  readonly count: PrekeyCount;
  readonly uploadedOneTime: number;
  readonly uploadedKem: number;
  readonly rotated: boolean;
}

/** Default rotation period of the signed prekey (Signal rotates every few days). */
export const SIGNED_PREKEY_ROTATION_MS = 7 * 24 * 60 * 60 * 1000;

function refill(left: number, threshold: number, batch: number): number {
  if (left >= threshold) return 0;
  return Math.max(0, Math.min(batch, MAX_PREKEYS_PER_UPLOAD, MAX_STORED_PREKEYS - left));
}

/**
 * One maintenance run: count, then generate and upload what is missing in one request. Every
 * upload announces {@link CLIENT_CAPABILITIES}; a device whose capabilities were never
 * announced (registered by an older client) uploads them even when no key is missing.
 *
 * @throws {ApiError | NetworkError} if the count or upload fails (nothing is lost: unused
 *   private keys simply stay in the store).
 * @example await maintainPrekeys({ engine, http, now: Date.now }, {});
 */
export async function maintainPrekeys(
  ctx: { engine: ProtocolEngine; http: SealpostHttpClient; now: () => number },
  policy: PrekeyPolicy,
  call?: CallOptions,
): Promise<PrekeyMaintenance> {
  const threshold = policy.threshold ?? 25;
  const batch = policy.batch ?? MAX_PREKEYS_PER_UPLOAD;
  const rotationMs = policy.rotationMs ?? SIGNED_PREKEY_ROTATION_MS;
  const count = await ctx.http.countPrekeys(call);
  const createdAt = await signedPrekeyCreatedAt(ctx.engine.store);
  const rotate = createdAt === undefined || ctx.now() - createdAt >= rotationMs;
  const oneTime = refill(count.ec, threshold, batch);
  const kem = refill(count.pq, threshold, batch);
  const { store } = ctx.engine;
  // A device registered by an older client announces what this one can receive (once).
  const announced = await capabilitiesAnnounced(store);
  if (oneTime === 0 && kem === 0 && !rotate && announced) {
    return { count, uploadedOneTime: 0, uploadedKem: 0, rotated: false };
  }
  const upload =
    oneTime === 0 && kem === 0 && !rotate
      ? {}
      : prekeyUploadJson(
          await ctx.engine.generatePrekeys({
            oneTime,
            kem,
            rotateSignedPrekey: rotate,
            rotateLastResort: rotate,
          }),
        );
  // docs/SERVICE.md §4.2: every upload carries the capabilities (they replace the stored ones).
  const after = await ctx.http.uploadPrekeys(
    { ...upload, capabilities: [...CLIENT_CAPABILITIES] },
    call,
  );
  if (!announced) await store.commit([capabilitiesAnnouncedOp()]);
  return { count: after, uploadedOneTime: oneTime, uploadedKem: kem, rotated: rotate };
}
