/**
 * What operators do (docs/SERVICE.md §14.4): work through verified reports, look at what the
 * reports say about a sender, suspend and lift accounts, and read the audit log. Every action
 * is written to the audit log **before** it is carried out, so no decision, suspension or lift
 * happens unrecorded; an action that then fails leaves its entry (the operator's retry adds
 * another). Reached only through the moderation API (functions/api/moderation), never with a
 * device key.
 */

import { ServiceError } from './errors.ts';
import type { Random } from './mailbox-positions.ts';
import type { AuditEntry, AuditLog, ModerationPorts } from './moderation-ports.ts';
import type { AccountStore, Clock } from './ports.ts';
import type {
  Page,
  ReportDecision,
  ReportDecisionKind,
  ReportStatus,
  ReportSummary,
  StoredReport,
} from './report-ports.ts';
import type { Suspension } from './suspension-ports.ts';

/** Longest operator note or suspension reason, in characters. */
export const MAX_MODERATION_NOTE = 1000;

/** Most entries one listing returns. */
export const MAX_MODERATION_PAGE = 100;

/** What the reports and the account record say about a sender account. */
export interface SenderView {
  readonly address: string;
  readonly verifiedReports: number;
  readonly distinctReporters: number;
  /** Absent when no stored report names the account. */
  readonly lastReportAt?: number;
  /** Present while the account is suspended. */
  readonly suspended?: { readonly suspendedAt: number; readonly reason: string };
}

const notFound = (what: string) => new ServiceError('NOT_FOUND', `no such ${what}`);

function checkText(text: string, name: string, optional: boolean): void {
  if (typeof text !== 'string' || text.length > MAX_MODERATION_NOTE) {
    throw new ServiceError(
      'BAD_REQUEST',
      `${name} must be at most ${MAX_MODERATION_NOTE} characters`,
    );
  }
  if (!optional && text.trim() === '') throw new ServiceError('BAD_REQUEST', `${name} is empty`);
}

function checkLimit(limit: number): void {
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_MODERATION_PAGE) {
    throw new ServiceError('BAD_REQUEST', `limit must be an integer in 1..${MAX_MODERATION_PAGE}`);
  }
}

/** The operators' service. */
export class ModerationService {
  constructor(
    private readonly ports: ModerationPorts,
    private readonly accounts: AccountStore,
    private readonly clock: Clock,
    private readonly random: Random,
  ) {}

  /**
   * Reports of one status, newest first.
   *
   * @example await moderation.listReports('open', 50) // { items: [...], cursor? }
   * @throws {ServiceError} `BAD_REQUEST` for a limit outside 1..100.
   */
  listReports(status: ReportStatus, limit: number, cursor?: string): Promise<Page<ReportSummary>> {
    checkLimit(limit);
    return this.ports.reports.list(status, {
      limit,
      now: this.clock(),
      ...(cursor === undefined ? {} : { cursor }),
    });
  }

  /**
   * One report with its messages.
   *
   * @example (await moderation.report(id)).messages[0].content
   * @throws {ServiceError} `NOT_FOUND` for an unknown or expired report.
   */
  async report(reportId: string): Promise<StoredReport> {
    const report = await this.ports.reports.get(reportId, this.clock());
    if (!report) throw notFound('report');
    return report;
  }

  /**
   * Decides a report (or changes its decision), audited as `decision`.
   *
   * @example await moderation.decide('local', id, 'violation', 'threats')
   * @throws {ServiceError} `NOT_FOUND`; `BAD_REQUEST` for a note over 1,000 characters.
   */
  async decide(
    actor: string,
    reportId: string,
    decision: ReportDecisionKind,
    note?: string,
  ): Promise<{ reportId: string; status: 'decided'; decision: ReportDecision }> {
    if (note !== undefined) checkText(note, 'note', true);
    const now = this.clock();
    if (!(await this.ports.reports.get(reportId, now))) throw notFound('report');
    await this.record(actor, 'decision', reportId, now, note, decision);
    const recorded: ReportDecision = {
      decision,
      decidedAt: now,
      actor,
      ...(note === undefined ? {} : { note }),
    };
    if (!(await this.ports.reports.decide(reportId, recorded, now))) throw notFound('report');
    return { reportId, status: 'decided', decision: recorded };
  }

  /**
   * The report counters of a sender account and its suspension.
   *
   * @example await moderation.sender(address) // { address, verifiedReports: 3, distinctReporters: 2, ... }
   * @throws {ServiceError} `NOT_FOUND` when neither an account nor a stored report names it.
   */
  async sender(address: string): Promise<SenderView> {
    const now = this.clock();
    const [stats, view] = await Promise.all([
      this.ports.reports.senderStats(address, now),
      this.accounts.get(address),
    ]);
    if (!stats && !view) throw notFound('account');
    const account = view?.account;
    return {
      address,
      verifiedReports: stats?.verifiedReports ?? 0,
      distinctReporters: stats?.distinctReporters ?? 0,
      ...(stats ? { lastReportAt: stats.lastReportAt } : {}),
      ...(account?.suspendedAt !== undefined
        ? {
            suspended: { suspendedAt: account.suspendedAt, reason: account.suspensionReason ?? '' },
          }
        : {}),
    };
  }

  /**
   * Suspends an account (audited as `suspend`): it gets no sender certificates, identified
   * sends or uploads from now on, and enters the revocation list. Suspending a suspended
   * account replaces the reason and keeps the time.
   *
   * @example await moderation.suspend('local', address, 'spam wave')
   * @throws {ServiceError} `NOT_FOUND` for an unknown account; `BAD_REQUEST` for an empty
   *   reason or one over 1,000 characters.
   */
  async suspend(actor: string, address: string, reason: string): Promise<Suspension> {
    checkText(reason, 'reason', false);
    const now = this.clock();
    if (!(await this.accounts.get(address))) throw notFound('account');
    await this.record(actor, 'suspend', address, now, reason);
    const suspension = await this.ports.suspensions.suspend(address, now, reason);
    if (!suspension) throw notFound('account');
    return suspension;
  }

  /**
   * Lifts a suspension (audited as `lift` when there was one).
   *
   * @example await moderation.lift('local', address) // { address, lifted: true }
   */
  async lift(actor: string, address: string): Promise<{ address: string; lifted: boolean }> {
    const now = this.clock();
    const view = await this.accounts.get(address);
    if (view?.account.suspendedAt === undefined) return { address, lifted: false };
    await this.record(actor, 'lift', address, now);
    return { address, lifted: (await this.ports.suspensions.lift(address)) !== undefined };
  }

  /**
   * The audit log, newest first.
   *
   * @example await moderation.audit(20)
   * @throws {ServiceError} `BAD_REQUEST` for a limit outside 1..100.
   */
  audit(limit: number, cursor?: string): Promise<Page<AuditEntry>> {
    checkLimit(limit);
    return this.ports.audit.list({ limit, ...(cursor === undefined ? {} : { cursor }) });
  }

  private async record(
    actor: string,
    action: AuditEntry['action'],
    target: string,
    time: number,
    note?: string,
    decision?: ReportDecisionKind,
  ): Promise<void> {
    const log: AuditLog = this.ports.audit;
    const id = `${String(time).padStart(13, '0')}-${Buffer.from(this.random(8)).toString('hex')}`;
    await log.append({
      id,
      time,
      actor,
      action,
      target,
      ...(decision === undefined ? {} : { decision }),
      ...(note === undefined || note === '' ? {} : { note }),
    });
  }
}
