/**
 * Ports of abuse reports (docs/SERVICE.md §14): the verifier of the franking evidence a
 * reporting device sends (functions/domain/report-verifier.ts implements it), and the store of
 * verified reports with their per-sender counters. The store has a DynamoDB and an in-memory
 * adapter that pass one contract suite (test/integration/moderation-stores.test.ts).
 */
import type { ReportReason } from 'sealpost/wire/api';
import { ServiceError } from './errors.ts';

/** One message of a report, decoded from the request (docs/SERVICE.md §14.1). */
export interface ReportedMessage {
  messageId: Uint8Array;
  receivedAt: number;
  stamp: Uint8Array;
  commitment: Uint8Array;
  openingKey: Uint8Array;
  content: Uint8Array;
  senderCertificate: Uint8Array;
  moderatorKeyId: number;
  sessionKey: Uint8Array;
  signature: Uint8Array;
  messageSignature: Uint8Array;
}

/** What the verifier established about a reported message. */
export interface VerifiedMessage {
  messageId: Uint8Array;
  receivedAt: number;
  sender: { address: string; deviceId: number };
  content: Uint8Array;
  stamp: Uint8Array;
}

/**
 * The verifier's answer. `reason` is a short fixed string (`'stamp'`, `'signature'`, ...),
 * never derived from the content: it is returned to the reporter and logged.
 */
export type VerifyOutcome = { ok: true; message: VerifiedMessage } | { ok: false; reason: string };

/** Checks the franking evidence of one reported message for the device that reports it. */
export interface ReportVerifier {
  verify(
    reporter: { address: string; deviceId: number },
    message: ReportedMessage,
    now: number,
  ): Promise<VerifyOutcome>;
}

/** `open` until an operator decides; a decision can be changed (each one is audited). */
export type ReportStatus = 'open' | 'decided';

/** An operator's decision on a report. */
export type ReportDecisionKind = 'dismiss' | 'violation';

/** An account and device. */
export interface AccountDevice {
  readonly address: string;
  readonly deviceId: number;
}

/** One verified message as stored with its report. */
export interface StoredReportMessage {
  readonly messageId: Uint8Array;
  readonly receivedAt: number;
  readonly stamp: Uint8Array;
  /** The revealed plaintext (the SDK's content frame). */
  readonly content: Uint8Array;
}

/** The decision recorded on a report. */
export interface ReportDecision {
  readonly decision: ReportDecisionKind;
  readonly decidedAt: number;
  /** Who decided: an IAM principal ARN on AWS, `local` locally. */
  readonly actor: string;
  readonly note?: string;
}

/** A verified report as stored. */
export interface StoredReport {
  /** base64url of the 16-byte report id. */
  readonly reportId: string;
  readonly status: ReportStatus;
  readonly reason: ReportReason;
  readonly createdAt: number;
  /** Removed at (or, with DynamoDB's TTL lag, hidden from) this time: createdAt + retention. */
  readonly expiresAt: number;
  readonly reporter: AccountDevice;
  /** The sender of the reported message, from its verified sender certificate. */
  readonly sender: AccountDevice;
  /** The reported message first, then the earlier ones in the order the report gave them. */
  readonly messages: readonly StoredReportMessage[];
  readonly decision?: ReportDecision;
}

/** A report in a listing: what an operator needs to pick one. */
export interface ReportSummary {
  readonly reportId: string;
  readonly status: ReportStatus;
  readonly reason: ReportReason;
  readonly createdAt: number;
  readonly expiresAt: number;
  readonly sender: AccountDevice;
  /** How many messages the report holds (1..6). */
  readonly messageCount: number;
  readonly decision?: Omit<ReportDecision, 'note' | 'actor'>;
}

/** What the reports say about one sender account. */
export interface SenderReportStats {
  readonly address: string;
  /** Verified reports stored naming it as the sender (duplicates are not counted). */
  readonly verifiedReports: number;
  /** Distinct reporting accounts, counted up to {@link MAX_TRACKED_REPORTERS}. */
  readonly distinctReporters: number;
  readonly lastReportAt: number;
}

/** Reporting accounts remembered per sender (32-byte hashes); more are not counted. */
export const MAX_TRACKED_REPORTERS = 1000;

/**
 * An opaque listing cursor of the adapters: base64url of their position (a sort key of
 * printable ASCII).
 *
 * @example encodeCursor('0001750000000000#AAAA') // 'MDAwMTc1...'
 */
export function encodeCursor(position: string): string {
  return Buffer.from(position, 'utf8').toString('base64url');
}

/**
 * The position of a cursor made by {@link encodeCursor}.
 *
 * @example decodeCursor(encodeCursor(sk)) === sk
 * @throws {ServiceError} `BAD_REQUEST` when it is not such a cursor (empty, over 200
 *   characters, not base64url, not printable ASCII).
 */
export function decodeCursor(cursor: string): string {
  if (/^[A-Za-z0-9_-]{1,200}$/.test(cursor)) {
    const position = Buffer.from(cursor, 'base64url').toString('utf8');
    if (/^[\x21-\x7e]+$/.test(position)) return position;
  }
  throw new ServiceError('BAD_REQUEST', 'invalid cursor');
}

/** One page of a listing. `cursor` continues it (opaque), absent at the end. */
export interface Page<T> {
  readonly items: T[];
  readonly cursor?: string;
}

/**
 * Verified reports and per-sender counters. Listings are newest first; items past
 * `expiresAt` are never returned.
 */
export interface ReportStore {
  /**
   * Stores `report` (status `open`) unless a report with its id exists, and then counts it for
   * its sender: `verifiedReports + 1`, `reporterHash` added to the sender's reporter set while
   * it holds fewer than {@link MAX_TRACKED_REPORTERS}, `lastReportAt = report.createdAt`.
   * False (and nothing changed) for an existing id.
   */
  add(report: StoredReport, reporterHash: Uint8Array): Promise<boolean>;
  /** The report, or undefined (unknown or expired). Strongly consistent. */
  get(reportId: string, now: number): Promise<StoredReport | undefined>;
  /** Reports of one status, newest first. */
  list(
    status: ReportStatus,
    options: { limit: number; cursor?: string; now: number },
  ): Promise<Page<ReportSummary>>;
  /**
   * Records (or replaces) the decision on a report and marks it `decided`. False if there is
   * no such report.
   */
  decide(reportId: string, decision: ReportDecision, now: number): Promise<boolean>;
  /** The counters of a sender account, or undefined when no report named it (or they expired). */
  senderStats(address: string, now: number): Promise<SenderReportStats | undefined>;
}
