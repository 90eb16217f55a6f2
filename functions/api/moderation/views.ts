/** Stored reports as the moderation API shows them (docs/SERVICE.md §14.4). */
import { toBase64Url } from 'sealpost/wire/api';
import type {
  ReportSummary,
  StoredReport,
  StoredReportMessage,
} from '../../domain/report-ports.ts';
import { previewContent } from './content-preview.ts';
import type { ReportJson, ReportMessageJson, ReportSummaryJson } from './schemas.ts';

/**
 * A listed report.
 *
 * @example summaryJson(summary).messages // 1..6
 */
export function summaryJson(s: ReportSummary): ReportSummaryJson {
  return {
    reportId: s.reportId,
    status: s.status,
    reason: s.reason,
    createdAt: s.createdAt,
    expiresAt: s.expiresAt,
    sender: { address: s.sender.address, deviceId: s.sender.deviceId },
    messages: s.messageCount,
    ...(s.decision ? { decision: { ...s.decision } } : {}),
  };
}

function messageJson(m: StoredReportMessage): ReportMessageJson {
  return {
    messageId: toBase64Url(m.messageId),
    receivedAt: m.receivedAt,
    stamp: toBase64Url(m.stamp),
    content: toBase64Url(m.content),
    preview: previewContent(m.content),
  };
}

/**
 * A report with its messages, each with its content (base64url) and preview.
 *
 * @example reportJson(report).message.preview // { frame: 'content', kind: 'message', text, ... }
 */
export function reportJson(r: StoredReport): ReportJson {
  const [main, ...previous] = r.messages;
  if (!main) throw new Error('a stored report has no message');
  return {
    reportId: r.reportId,
    status: r.status,
    verification: 'verified',
    reason: r.reason,
    createdAt: r.createdAt,
    expiresAt: r.expiresAt,
    reporter: { ...r.reporter },
    sender: { ...r.sender },
    message: messageJson(main),
    previous: previous.map(messageJson),
    ...(r.decision ? { decision: { ...r.decision } } : {}),
  };
}
