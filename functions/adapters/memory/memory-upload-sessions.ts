/** In-memory {@link UploadSessionStore}, the same contract as the DynamoDB adapter. */
import type { UploadSession, UploadSessionStore } from '../../domain/attachment-ports.ts';

/**
 * Upload sessions in a `Map` by attachment id; expired ones are never returned.
 *
 * @example
 * const sessions = new MemoryUploadSessions();
 * await sessions.put({ id, account, size, createdAt: now, expiresAt: now + 86_400_000 });
 */
export class MemoryUploadSessions implements UploadSessionStore {
  private readonly byId = new Map<string, UploadSession>();

  async put(session: UploadSession): Promise<void> {
    if (this.byId.has(session.id)) throw new Error('an upload session with this id exists');
    this.byId.set(session.id, { ...session });
  }

  async get(id: string, now: number): Promise<UploadSession | undefined> {
    const session = this.byId.get(id);
    return session && session.expiresAt > now ? { ...session } : undefined;
  }

  async delete(id: string): Promise<boolean> {
    return this.byId.delete(id);
  }

  /** How many sessions are held, expired ones included (for tests). */
  get size(): number {
    return this.byId.size;
  }
}
