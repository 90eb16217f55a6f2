/**
 * In-memory {@link PrekeyStore}. JavaScript runs one callback at a time, so removing a key
 * from the map inside `claim` is atomic; keys are handed out lowest id first.
 */
import type {
  DeviceRef,
  PrekeyStore,
  StoredKemPrekey,
  StoredOneTimePrekey,
} from '../../domain/ports.ts';

interface DeviceKeys {
  ec: Map<number, StoredOneTimePrekey>;
  pq: Map<number, StoredKemPrekey>;
}

function takeLowest<T>(m: Map<number, T>): T | undefined {
  let best: number | undefined;
  for (const id of m.keys()) if (best === undefined || id < best) best = id;
  if (best === undefined) return undefined;
  const v = m.get(best);
  m.delete(best);
  return v;
}

const refKey = (r: DeviceRef): string => `${r.address}/${r.deviceId}/${r.registrationId}`;

/** One-time prekeys in nested `Map`s, per device generation. */
export class MemoryPrekeyStore implements PrekeyStore {
  private readonly devices = new Map<string, DeviceKeys>();

  private keysOf(ref: DeviceRef): DeviceKeys {
    let d = this.devices.get(refKey(ref));
    if (!d) {
      d = { ec: new Map(), pq: new Map() };
      this.devices.set(refKey(ref), d);
    }
    return d;
  }

  async addOneTime(
    ref: DeviceRef,
    ec: readonly StoredOneTimePrekey[],
    pq: readonly StoredKemPrekey[],
  ): Promise<void> {
    const d = this.keysOf(ref);
    for (const k of ec) d.ec.set(k.id, structuredClone(k));
    for (const k of pq) d.pq.set(k.id, structuredClone(k));
  }

  async count(ref: DeviceRef): Promise<{ ec: number; pq: number }> {
    const d = this.keysOf(ref);
    return { ec: d.ec.size, pq: d.pq.size };
  }

  async claim(ref: DeviceRef): Promise<{ ec?: StoredOneTimePrekey; pq?: StoredKemPrekey }> {
    const d = this.keysOf(ref);
    const ec = takeLowest(d.ec);
    const pq = takeLowest(d.pq);
    return { ...(ec ? { ec } : {}), ...(pq ? { pq } : {}) };
  }

  async deleteAll(ref: DeviceRef): Promise<void> {
    this.devices.delete(refKey(ref));
  }
}
