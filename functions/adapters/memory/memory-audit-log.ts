/**
 * In-memory {@link AuditLog}: entries by id (ids sort by time), listed newest first with the
 * DynamoDB adapter's opaque cursors.
 */
import type { AuditEntry, AuditLog } from '../../domain/moderation-ports.ts';
import { decodeCursor, encodeCursor, type Page } from '../../domain/report-ports.ts';

/** The audit log in a `Map`. */
export class MemoryAuditLog implements AuditLog {
  private readonly entries = new Map<string, AuditEntry>();

  async append(entry: AuditEntry): Promise<void> {
    if (this.entries.has(entry.id)) throw new Error('audit entry id is taken');
    this.entries.set(entry.id, structuredClone(entry));
  }

  async list(options: { limit: number; cursor?: string }): Promise<Page<AuditEntry>> {
    const before = options.cursor === undefined ? undefined : decodeCursor(options.cursor);
    const ids = [...this.entries.keys()]
      .filter((id) => before === undefined || id < before)
      .sort()
      .reverse();
    const page = ids.slice(0, options.limit);
    const last = page.at(-1);
    return {
      items: page.map((id) => structuredClone(this.entries.get(id)!)),
      ...(ids.length > page.length && last ? { cursor: encodeCursor(last) } : {}),
    };
  }
}
