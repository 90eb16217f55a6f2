/** In-memory {@link BlobStore}; keys are `address/deviceId/registrationId/hex(messageId)`. */
import type { BlobStore, Mailbox } from '../../domain/ports.ts';

/** Objects in a `Map`. */
export class MemoryBlobStore implements BlobStore {
  /** Visible to tests that inspect what was stored. */
  readonly objects = new Map<string, Uint8Array>();

  async putIfAbsent(mailbox: Mailbox, messageId: Uint8Array, body: Uint8Array): Promise<string> {
    const id = Buffer.from(messageId).toString('hex');
    const key = `${mailbox.address}/${mailbox.deviceId}/${mailbox.registrationId}/${id}`;
    if (!this.objects.has(key)) this.objects.set(key, body.slice());
    return key;
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    return this.objects.get(key)?.slice();
  }

  async deleteMany(keys: readonly string[]): Promise<void> {
    for (const k of keys) this.objects.delete(k);
  }
}
