/**
 * What receiving does for reports and suspensions (docs/SDK.md §Reporting, §Suspended senders),
 * before the app sees a message from another account: it must carry the service's delivery
 * stamp (without one no report of it could verify, so it is dropped like a message whose
 * franking does not verify) and must not come from an account the revocation list names; the
 * record a report needs is committed with the message. A message franked for a moderator key
 * this device does not hold is opened again if refreshing the certificates brings that key.
 */
import { UnreportableMessageError } from '../errors.ts';
import type { ReceivedMessage } from '../protocol/engine.ts';
import type { StoreOp } from '../state/store.ts';
import { fromBase64Url } from '../wire/api/codec.ts';
import type { DeliveredMessage } from '../wire/api/schemas.ts';
import type { CallOptions } from './call-options.ts';
import type { Moderators } from './moderators.ts';
import type { ReportStore } from './report-store.ts';
import type { Revocations } from './revocations.ts';

/** The receive side of reporting for one client. */
export class ReportIntake {
  constructor(
    private readonly ctx: {
      readonly reports: ReportStore;
      readonly revocations: Revocations;
      readonly moderators: Moderators;
      readonly now: () => number;
    },
  ) {}

  /**
   * Refreshes the revocation list before a batch of delivered messages is processed (at most
   * every `revocationRefreshMs`; never throws).
   */
  beforeBatch(call?: CallOptions): Promise<void> {
    return this.ctx.revocations.refresh(call);
  }

  /**
   * Checks a message from another account before anything of it is used.
   *
   * @throws {UnreportableMessageError} `stamp` when the service delivered it without a stamp.
   * @throws {SenderSuspendedError} when the revocation list names the sender's account.
   */
  admit(delivered: DeliveredMessage, senderAddress: string): void {
    if (delivered.stamp === undefined) throw new UnreportableMessageError('stamp');
    this.ctx.revocations.check(senderAddress, delivered.receivedAt);
  }

  /**
   * The op storing what a report of this message needs, or undefined when it carries no
   * franking (then it is not reportable).
   */
  recordOp(delivered: DeliveredMessage, received: ReceivedMessage): StoreOp | undefined {
    const { franking } = received;
    if (franking === undefined || delivered.stamp === undefined) return undefined;
    return this.ctx.reports.recordOp({
      messageId: fromBase64Url(delivered.messageId, 'messageId'),
      receivedAt: delivered.receivedAt,
      storedAt: this.ctx.now(),
      sender: received.sender,
      stamp: fromBase64Url(delivered.stamp, 'stamp'),
      commitment: franking.commitment,
      openingKey: franking.openingKey,
      content: received.plaintext,
      senderCertificate: franking.senderCertificate,
      moderatorKeyId: franking.moderatorKeyId,
      sessionKey: franking.sessionKey,
      signature: franking.signature,
      messageSignature: franking.messageSignature,
    });
  }

  /** Prunes the openings store past its retention and size (on receive batches). */
  async prune(): Promise<void> {
    await this.ctx.reports.prune();
  }

  /** After a record was committed: keeps the store within its bounds (a failure waits for the next). */
  async stored(): Promise<void> {
    try {
      await this.ctx.reports.stored();
    } catch {
      // The record is committed; pruning runs again on the next message, batch or open.
    }
  }

  /**
   * After opening failed with `error`: when the franking signature verified under none of the
   * moderator keys this device holds (the envelope does not name its key, so a key this device
   * has not fetched yet looks the same as a bad signature) or it holds none, refreshes the
   * moderator certificates (at most every `UNKNOWN_KEY_REFRESH_MS`).
   * Resolves `true` when a new key came (open the message again), the refresh's own error
   * when it failed (retryable: the message stays on the server), else `false`.
   */
  async retryUnknownModerator(error: unknown, call?: CallOptions): Promise<boolean | Error> {
    if (
      !(
        error instanceof UnreportableMessageError &&
        (error.reason === 'moderator key' || error.reason === 'signature')
      )
    ) {
      return false;
    }
    try {
      return await this.ctx.moderators.refreshForUnknownKey(call);
    } catch (err) {
      return err instanceof Error ? err : new Error('moderator refresh failed');
    }
  }
}
