import {
  assertStoreKey,
  assertStoreOps,
  firstConflict,
  isCheckOnly,
  type StateStore,
  StoreConflictError,
  type StoreNamespace,
  type StoreOp,
} from './store.ts';

/**
 * In-memory {@link StateStore}: for tests, ephemeral clients and browsers without
 * persistence. Commits (and their `expect` checks) are atomic because they are synchronous
 * under the hood.
 */
export class MemoryStore implements StateStore {
  private readonly data = new Map<StoreNamespace, Map<string, Uint8Array>>();

  private space(ns: StoreNamespace): Map<string, Uint8Array> {
    let m = this.data.get(ns);
    if (!m) {
      m = new Map();
      this.data.set(ns, m);
    }
    return m;
  }

  async get(ns: StoreNamespace, key: string): Promise<Uint8Array | undefined> {
    assertStoreKey(key);
    const v = this.data.get(ns)?.get(key);
    return v === undefined ? undefined : v.slice();
  }

  async keys(ns: StoreNamespace): Promise<string[]> {
    return [...(this.data.get(ns)?.keys() ?? [])];
  }

  async commit(ops: readonly StoreOp[]): Promise<void> {
    assertStoreOps(ops);
    // Check and apply run without an await in between: atomic for every caller in this realm.
    const failed = firstConflict(ops, (ns, key) => this.data.get(ns)?.get(key));
    if (failed) throw new StoreConflictError(failed.ns, failed.key);
    for (const op of ops) {
      if (isCheckOnly(op)) continue;
      if (op.value === null) this.data.get(op.ns)?.delete(op.key);
      // A transferred value is kept as it is; any other is copied away from the caller.
      else this.space(op.ns).set(op.key, op.transfer === true ? op.value : op.value.slice());
    }
  }
}
