/**
 * In-memory {@link ReportStore} for tests and the local server: the contract of the DynamoDB
 * adapter (test/integration/moderation-stores.test.ts), including its listing order (newest
 * first by creation time, then id) and opaque cursors. Records are copied in and out.
 */
import type {
  Page,
  ReportDecision,
  ReportStatus,
  ReportStore,
  ReportSummary,
  SenderReportStats,
  StoredReport,
} from '../../domain/report-ports.ts';
import { decodeCursor, encodeCursor, MAX_TRACKED_REPORTERS } from '../../domain/report-ports.ts';

interface SenderEntry {
  verifiedReports: number;
  reporters: Set<string>;
  lastReportAt: number;
  expiresAt: number;
}

/** The listing order key: creation time (13 digits), then the id. */
const orderKey = (r: StoredReport): string =>
  `${String(r.createdAt).padStart(13, '0')}#${r.reportId}`;

/**
 * A report as listed.
 *
 * @example summarize(report).messageCount // 1..6
 */
export function summarize(r: StoredReport): ReportSummary {
  return {
    reportId: r.reportId,
    status: r.status,
    reason: r.reason,
    createdAt: r.createdAt,
    expiresAt: r.expiresAt,
    sender: { ...r.sender },
    messageCount: r.messages.length,
    ...(r.decision
      ? { decision: { decision: r.decision.decision, decidedAt: r.decision.decidedAt } }
      : {}),
  };
}

/** Reports and sender counters in `Map`s. */
export class MemoryReports implements ReportStore {
  private readonly reports = new Map<string, StoredReport>();
  private readonly senders = new Map<string, SenderEntry>();

  async add(report: StoredReport, reporterHash: Uint8Array): Promise<boolean> {
    const existing = this.reports.get(report.reportId);
    if (existing && existing.expiresAt > report.createdAt) return false;
    this.reports.set(report.reportId, structuredClone(report));
    const address = report.sender.address;
    const old = this.senders.get(address);
    const entry: SenderEntry =
      old && old.expiresAt > report.createdAt
        ? old
        : { verifiedReports: 0, reporters: new Set(), lastReportAt: 0, expiresAt: 0 };
    const hash = Buffer.from(reporterHash).toString('hex');
    if (entry.reporters.size < MAX_TRACKED_REPORTERS) entry.reporters.add(hash);
    entry.verifiedReports += 1;
    entry.lastReportAt = report.createdAt;
    entry.expiresAt = report.expiresAt;
    this.senders.set(address, entry);
    return true;
  }

  async get(reportId: string, now: number): Promise<StoredReport | undefined> {
    const r = this.reports.get(reportId);
    return r && r.expiresAt > now ? structuredClone(r) : undefined;
  }

  async list(
    status: ReportStatus,
    options: { limit: number; cursor?: string; now: number },
  ): Promise<Page<ReportSummary>> {
    const after = options.cursor === undefined ? undefined : decodeCursor(options.cursor);
    const matching = [...this.reports.values()]
      .filter((r) => r.status === status && r.expiresAt > options.now)
      .map((r) => ({ key: orderKey(r), r }))
      .filter((x) => after === undefined || x.key < after)
      .sort((a, b) => (a.key < b.key ? 1 : a.key > b.key ? -1 : 0));
    const page = matching.slice(0, options.limit);
    const last = page.at(-1);
    return {
      items: page.map((x) => summarize(x.r)),
      ...(matching.length > page.length && last ? { cursor: encodeCursor(last.key) } : {}),
    };
  }

  async decide(reportId: string, decision: ReportDecision, now: number): Promise<boolean> {
    const r = this.reports.get(reportId);
    if (!r || r.expiresAt <= now) return false;
    this.reports.set(reportId, { ...r, status: 'decided', decision: { ...decision } });
    return true;
  }

  async senderStats(address: string, now: number): Promise<SenderReportStats | undefined> {
    const e = this.senders.get(address);
    if (!e || e.expiresAt <= now) return undefined;
    return {
      address,
      verifiedReports: e.verifiedReports,
      distinctReporters: e.reporters.size,
      lastReportAt: e.lastReportAt,
    };
  }
}
