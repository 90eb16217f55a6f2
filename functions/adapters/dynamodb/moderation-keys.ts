/**
 * Keys of the moderation items (docs/SERVICE.md §8.1, §14.3), beside the table's other keys
 * (keys.ts, push-keys.ts, connection-keys.ts). Every partition is a new prefix; no existing key
 * changes. Times in sort keys are 13-digit zero-padded milliseconds, so `sk` order is time order.
 */
import type { ReportStatus } from '../../domain/report-ports.ts';
import type { ItemKey } from './keys.ts';

const pad13 = (n: number): string => n.toString().padStart(13, '0');

/** Partition of one report: the report item and one item per message (`m#0`: the reported one). */
export const reportPartition = (reportId: string): string => `rpt#${reportId}`;
/** Sort key of the report item ('m#…' < 'report'). */
export const REPORT_SK = 'report';
/** Sort-key prefix of a report's message items. */
export const REPORT_MESSAGE_SK_PREFIX = 'm#';

export const reportKey = (reportId: string): ItemKey => ({
  pk: reportPartition(reportId),
  sk: REPORT_SK,
});
export const reportMessageKey = (reportId: string, index: number): ItemKey => ({
  pk: reportPartition(reportId),
  sk: `${REPORT_MESSAGE_SK_PREFIX}${index}`,
});

/** The listing of the reports of one status: one small item per report, newest last in `sk`. */
export const reportQueuePartition = (status: ReportStatus): string => `rptq#${status}`;
export const reportQueueKey = (
  status: ReportStatus,
  createdAt: number,
  reportId: string,
): ItemKey => ({ pk: reportQueuePartition(status), sk: `${pad13(createdAt)}#${reportId}` });

/** The report counters of one sender account. */
export const senderReportsKey = (address: string): ItemKey => ({
  pk: `rpts#${address}`,
  sk: 'rpts',
});

/** The index of suspensions in force (the revocation list reads its newest entries). */
export const SUSPENSION_PARTITION = 'susp';
export const suspensionIndexKey = (suspendedAt: number, address: string): ItemKey => ({
  pk: SUSPENSION_PARTITION,
  sk: `${pad13(suspendedAt)}#${address}`,
});
/** The smallest index sort key after `time` (every entry suspended later sorts above it). */
export const suspensionIndexFloor = (time: number): string => `${pad13(Math.max(0, time))}#~`;

/** The audit log: one partition, one item per entry, `sk` = the entry id (time first). */
export const AUDIT_PARTITION = 'audit';
export const auditKey = (id: string): ItemKey => ({ pk: AUDIT_PARTITION, sk: id });
