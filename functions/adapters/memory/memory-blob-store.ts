/** In-memory {@link BlobStore}; keys are `address/deviceId/registrationId/hex(position)`. */
import type { BlobStore, Mailbox } from '../../domain/ports.ts';

const key = (m: Mailbox, position: Uint8Array): string =>
  `${m.address}/${m.deviceId}/${m.registrationId}/${Buffer.from(position).toString('hex')}`;

/** Objects in a `Map`. */
export class MemoryBlobStore implements BlobStore {
  /** Visible to tests that inspect what was stored. */
  readonly objects = new Map<string, Uint8Array>();

  async put(mailbox: Mailbox, position: Uint8Array, body: Uint8Array): Promise<void> {
    const k = key(mailbox, position);
    if (!this.objects.has(k)) this.objects.set(k, body.slice());
  }

  async get(mailbox: Mailbox, position: Uint8Array): Promise<Uint8Array | undefined> {
    return this.objects.get(key(mailbox, position))?.slice();
  }

  async deleteMany(mailbox: Mailbox, positions: readonly Uint8Array[]): Promise<void> {
    for (const p of positions) this.objects.delete(key(mailbox, p));
  }
}
