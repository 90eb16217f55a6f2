/**
 * In-memory {@link PrekeyStore}. JavaScript runs one callback at a time, so removing a key
 * from the map inside `claim` is atomic; keys are handed out lowest id first like the
 * DynamoDB adapter's sort order.
 */
import type { PrekeyStore, StoredKemPrekey, StoredOneTimePrekey } from '../../domain/ports.ts';

interface DeviceKeys {
  ec: Map<number, StoredOneTimePrekey>;
  pq: Map<number, StoredKemPrekey>;
}

function lowest<T>(m: Map<number, T>): T | undefined {
  let best: number | undefined;
  for (const id of m.keys()) if (best === undefined || id < best) best = id;
  if (best === undefined) return undefined;
  const v = m.get(best);
  m.delete(best);
  return v;
}

/** One-time prekeys in nested `Map`s. */
export class MemoryPrekeyStore implements PrekeyStore {
  private readonly devices = new Map<string, DeviceKeys>();

  private keysOf(address: string, deviceId: number): DeviceKeys {
    const k = `${address}/${deviceId}`;
    let d = this.devices.get(k);
    if (!d) {
      d = { ec: new Map(), pq: new Map() };
      this.devices.set(k, d);
    }
    return d;
  }

  async addOneTime(
    address: string,
    deviceId: number,
    ec: readonly StoredOneTimePrekey[],
    pq: readonly StoredKemPrekey[],
  ): Promise<void> {
    const d = this.keysOf(address, deviceId);
    for (const k of ec) d.ec.set(k.id, structuredClone(k));
    for (const k of pq) d.pq.set(k.id, structuredClone(k));
  }

  async count(address: string, deviceId: number): Promise<{ ec: number; pq: number }> {
    const d = this.keysOf(address, deviceId);
    return { ec: d.ec.size, pq: d.pq.size };
  }

  async claim(
    address: string,
    deviceId: number,
  ): Promise<{ ec?: StoredOneTimePrekey; pq?: StoredKemPrekey }> {
    const d = this.keysOf(address, deviceId);
    const ec = lowest(d.ec);
    const pq = lowest(d.pq);
    return { ...(ec ? { ec } : {}), ...(pq ? { pq } : {}) };
  }

  async deleteAll(address: string, deviceId: number): Promise<void> {
    this.devices.delete(`${address}/${deviceId}`);
  }
}
