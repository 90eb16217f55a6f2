/**
 * Reporting a received message to the operator (docs/SDK.md §Reporting; docs/PROTOCOL.md §11):
 * the request is built from the openings store (report-store.ts), with up to five earlier
 * messages of the same sender account for context, and posted to `POST /v1/reports`. The
 * service verifies the franking evidence with its moderator key and the delivery stamp with
 * its stamp key, so a report names its sender without the sealed send ever having done so.
 * Also the client's franking and suspension parts, wired together.
 */
import { ArgumentRangeError, ArgumentTypeError } from '../util/argument-errors.ts';
import { toBase64Url } from '../wire/api/codec.ts';
import {
  MAX_REPORT_PREVIOUS,
  REPORT_REASONS,
  type ReportedMessageJson,
  type ReportReason,
} from '../wire/api/schemas.ts';
import { isAddress } from '../wire/identity.ts';
import type { CallOptions } from './call-options.ts';
import { ReportUnavailableError } from './errors.ts';
import type { SealpostHttpClient } from './http-client.ts';
import type { Moderators } from './moderators.ts';
import type { ReportIntake } from './report-intake.ts';
import type { ReportRecord, ReportStore } from './report-store.ts';
import type { Revocations } from './revocations.ts';

export type { ReportReason };

/** Options of `SealpostClient.report`. */
export interface ReportOptions {
  /** Why: `spam`, `harassment`, `child_safety`, `scam` or `other`. */
  readonly reason: ReportReason;
  /**
   * How many earlier messages of the same sender account (received before the reported one,
   * the most recent first chosen) to include for context: 0..5. Only those this device still
   * holds records of are sent. @default 0
   */
  readonly includePrevious?: number;
}

/** What the service answered to a report. */
export interface ReportResult {
  /** The report's id (base64url, 16 bytes): the same report sent again gets the same id. */
  readonly reportId: string;
  /** True when the service had stored this report before. */
  readonly duplicate: boolean;
}

/** A received message as `report` takes it: the app's message, or its `id`. */
export type ReportTarget =
  | string
  | { readonly id: string; readonly sender?: { readonly address: string } };

/**
 * The JSON form of a stored record, as `ReportedMessage` of `POST /v1/reports`.
 *
 * @example const message = reportedMessageJson(record);
 */
export function reportedMessageJson(r: ReportRecord): ReportedMessageJson {
  return {
    messageId: toBase64Url(r.messageId),
    receivedAt: r.receivedAt,
    stamp: toBase64Url(r.stamp),
    commitment: toBase64Url(r.commitment),
    openingKey: toBase64Url(r.openingKey),
    content: toBase64Url(r.content),
    senderCertificate: toBase64Url(r.senderCertificate),
    moderatorKeyId: r.moderatorKeyId,
    sessionKey: toBase64Url(r.sessionKey),
    signature: toBase64Url(r.signature),
    messageSignature: toBase64Url(r.messageSignature),
  };
}

function checkOptions(options: ReportOptions): { reason: ReportReason; previous: number } {
  if (typeof options !== 'object' || options === null) {
    throw new ArgumentTypeError('options must be { reason, includePrevious? }');
  }
  if (!(REPORT_REASONS as readonly unknown[]).includes(options.reason)) {
    throw new ArgumentRangeError(`reason must be one of ${REPORT_REASONS.join(', ')}`);
  }
  const previous = options.includePrevious ?? 0;
  if (!Number.isInteger(previous) || previous < 0 || previous > MAX_REPORT_PREVIOUS) {
    throw new ArgumentRangeError(
      `includePrevious must be an integer from 0 to ${MAX_REPORT_PREVIOUS}`,
    );
  }
  return { reason: options.reason, previous };
}

function targetOf(target: ReportTarget): { id: string; sender: string | undefined } {
  if (typeof target === 'string') return { id: target, sender: undefined };
  if (typeof target !== 'object' || target === null || typeof target.id !== 'string') {
    throw new ArgumentTypeError('message must be a received message or its id');
  }
  const sender = target.sender?.address;
  return { id: target.id, sender: isAddress(sender) ? sender : undefined };
}

/** The client's franking, suspension and reporting parts. */
export class ClientReporting {
  constructor(
    private readonly ctx: {
      readonly http: Pick<SealpostHttpClient, 'submitReport'>;
      readonly reports: ReportStore;
      readonly moderators: Moderators;
      readonly revocations: Revocations;
      readonly intake: ReportIntake;
    },
  ) {}

  /** The held moderator certificates, and the franked seal. */
  get moderators(): Moderators {
    return this.ctx.moderators;
  }

  /** What receiving does for reports and suspensions. */
  get intake(): ReportIntake {
    return this.ctx.intake;
  }

  /**
   * Brings the engine and the parts up to the store at client open: the held moderator
   * certificates and revocation list, and the retention of the openings store.
   */
  async open(): Promise<void> {
    await this.ctx.moderators.load();
    await this.ctx.revocations.load();
    await this.ctx.reports.prune();
  }

  /**
   * Reports a received message (see `SealpostClient.report`).
   *
   * @throws {ReportUnavailableError} when this device holds no record of the message.
   * @throws {ArgumentTypeError | ArgumentRangeError} for a bad argument.
   * @throws {ApiError} `REPORT_UNVERIFIABLE`, `RATE_LIMITED`, …; {@link NetworkError}.
   */
  async report(
    target: ReportTarget,
    options: ReportOptions,
    call?: CallOptions,
  ): Promise<ReportResult> {
    const { id, sender } = targetOf(target);
    const { reason, previous } = checkOptions(options);
    const found = await this.ctx.reports.find(id, sender);
    if (found === undefined) throw new ReportUnavailableError();
    const earlier = await this.ctx.reports.previous(found.key, previous);
    const res = await this.ctx.http.submitReport(
      {
        reason,
        message: reportedMessageJson(found.record),
        ...(earlier.length > 0 ? { previous: earlier.map(reportedMessageJson) } : {}),
      },
      call,
    );
    return { reportId: res.reportId, duplicate: res.duplicate };
  }

  /**
   * Deletes what this device holds to report messages from `address`; returns how many records
   * it deleted.
   *
   * @throws {ArgumentTypeError} if `address` is not an address.
   */
  deleteConversation(address: string): Promise<number> {
    return this.ctx.reports.deleteSender(address);
  }
}
