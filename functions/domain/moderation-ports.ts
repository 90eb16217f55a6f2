/**
 * Ports of moderation (docs/SERVICE.md §14): the report store, suspensions, and the audit log
 * of every operator action. The intake (`POST /v1/reports`) and the revocation list run in the
 * device-facing function; the moderation API in its own function (§14.4).
 */
import type { Page, ReportDecisionKind, ReportStore } from './report-ports.ts';
import type { SuspensionStore } from './suspension-ports.ts';

/** What an operator did. */
export type AuditAction = 'decision' | 'suspend' | 'lift';

/** One operator action. */
export interface AuditEntry {
  /** Unique and ordered by time: `<13-digit time>-<16 hex>`. */
  readonly id: string;
  readonly time: number;
  /** The IAM principal ARN on AWS, `local` on the local server. */
  readonly actor: string;
  readonly action: AuditAction;
  /** A report id (decision) or an address (suspend, lift). */
  readonly target: string;
  /** The decision taken (decision only). */
  readonly decision?: ReportDecisionKind;
  /** The operator's note or suspension reason (at most 1,000 characters). */
  readonly note?: string;
}

/** How long an audit entry is kept: two years. */
export const AUDIT_RETENTION_MS = 2 * 365 * 24 * 60 * 60 * 1000;

/** The audit log: append-only, listed newest first, entries expire after two years. */
export interface AuditLog {
  /** Appends an entry (its id is unique: a repeated id is an error of the caller). */
  append(entry: AuditEntry): Promise<void>;
  /** Entries newest first. */
  list(options: { limit: number; cursor?: string }): Promise<Page<AuditEntry>>;
}

/** Every moderation port (one adapter set per environment). */
export interface ModerationPorts {
  readonly reports: ReportStore;
  readonly suspensions: SuspensionStore;
  readonly audit: AuditLog;
}
