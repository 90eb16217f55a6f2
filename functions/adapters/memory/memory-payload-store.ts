/**
 * In-memory {@link SharedPayloadStore} (docs/SERVICE.md §8.5): payload objects and their
 * reference sets in `Map`s keyed by the hex payload id. Each call runs to its end without
 * yielding, so a release that empties a set deletes the object exactly once, as the DynamoDB
 * adapter's conditional writes guarantee.
 */

import { hex } from '../../domain/crypto.ts';
import type { SharedPayloadStore } from '../../domain/ports.ts';

/** One payload's reference set: hex positions of the records that reference it. */
export interface MemoryPayloadRefs {
  readonly refs: Set<string>;
  readonly expiresAt: number;
}

/** Payloads and reference sets in `Map`s. */
export class MemoryPayloadStore implements SharedPayloadStore {
  /** Payload objects by hex id; visible to tests that inspect what was stored. */
  readonly objects = new Map<string, Uint8Array>();
  /** Reference sets by hex id; visible to tests. */
  readonly references = new Map<string, MemoryPayloadRefs>();

  async addRefs(id: Uint8Array, refs: readonly Uint8Array[], expiresAt: number): Promise<void> {
    const key = hex(id);
    let entry = this.references.get(key);
    if (!entry) {
      entry = { refs: new Set(), expiresAt };
      this.references.set(key, entry);
    }
    for (const ref of refs) entry.refs.add(hex(ref));
  }

  async put(id: Uint8Array, body: Uint8Array): Promise<void> {
    const key = hex(id);
    if (!this.objects.has(key)) this.objects.set(key, body.slice());
  }

  async get(id: Uint8Array): Promise<Uint8Array | undefined> {
    return this.objects.get(hex(id))?.slice();
  }

  async release(id: Uint8Array, ref: Uint8Array): Promise<void> {
    const key = hex(id);
    const entry = this.references.get(key);
    if (entry) {
      if (!entry.refs.delete(hex(ref)) || entry.refs.size > 0) return;
      this.references.delete(key);
    }
    // No set left: the last reference is gone (or the set was removed before), and the write
    // order (set before object before records) means no record being stored needs the object.
    this.objects.delete(key);
  }
}
