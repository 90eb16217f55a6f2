/** Contract of ConnectionRegistry (docs/SERVICE.md §7.3). */
import { describe, expect, it } from 'vitest';
import type { ConnectionRegistry } from '#functions/domain/realtime-ports.ts';
import { newAccount } from '../../unit/functions/fixtures.ts';

export function connectionRegistryContract(
  name: string,
  make: () => Promise<ConnectionRegistry>,
): void {
  describe(`ConnectionRegistry contract: ${name}`, () => {
    const device = () => ({ address: newAccount().address, deviceId: 2, registrationId: 9 });

    it('keeps one connection per device and reports the one it replaced', async () => {
      const registry = await make();
      const d = device();
      expect(await registry.put(d, `${d.address}-a`, 1000)).toBeUndefined();
      expect(await registry.put(d, `${d.address}-b`, 2000)).toBe(`${d.address}-a`);
      expect(await registry.get(d)).toEqual({
        connectionId: `${d.address}-b`,
        device: d,
        connectedAt: 2000,
      });
      expect(await registry.byConnection(`${d.address}-a`)).toBeUndefined();
      expect((await registry.byConnection(`${d.address}-b`))?.device).toEqual(d);
      expect(await registry.get({ ...d, deviceId: 3 })).toBeUndefined();
    });

    it('keeps the payloads option of each connection, read by device and by connection', async () => {
      const registry = await make();
      const d = device();
      expect(await registry.put(d, `${d.address}-p`, 1000, { payloads: true })).toBeUndefined();
      const flagged = {
        connectionId: `${d.address}-p`,
        device: d,
        connectedAt: 1000,
        payloads: true,
      };
      expect(await registry.get(d)).toEqual(flagged);
      expect(await registry.byConnection(`${d.address}-p`)).toEqual(flagged);
      // A newer connection without the option replaces it, and carries no flag.
      expect(await registry.put(d, `${d.address}-q`, 2000, {})).toBe(`${d.address}-p`);
      const plain = await registry.get(d);
      expect(plain).toEqual({ connectionId: `${d.address}-q`, device: d, connectedAt: 2000 });
      expect(plain).not.toHaveProperty('payloads');
      expect(await registry.byConnection(`${d.address}-q`)).not.toHaveProperty('payloads');
      expect(await registry.put(d, `${d.address}-r`, 3000, { payloads: false })).toBe(
        `${d.address}-q`,
      );
      expect(await registry.byConnection(`${d.address}-r`)).not.toHaveProperty('payloads');
      expect(await registry.remove(`${d.address}-r`)).toBe(true);
    });

    it('removes a connection only while it is current', async () => {
      const registry = await make();
      const d = device();
      await registry.put(d, `${d.address}-a`, 1000);
      await registry.put(d, `${d.address}-b`, 2000);
      expect(await registry.remove(`${d.address}-a`)).toBe(false);
      expect((await registry.get(d))?.connectionId).toBe(`${d.address}-b`);
      expect(await registry.remove(`${d.address}-b`)).toBe(true);
      expect(await registry.get(d)).toBeUndefined();
      expect(await registry.remove(`${d.address}-b`)).toBe(false);
    });

    it('leaves exactly one current connection after racing connects', async () => {
      const registry = await make();
      const d = device();
      const ids = Array.from({ length: 4 }, (_, i) => `${d.address}-${i}`);
      const replaced = await Promise.all(ids.map((id, i) => registry.put(d, id, 1000 + i)));
      const current = (await registry.get(d))?.connectionId;
      expect(ids).toContain(current);
      const live = await Promise.all(ids.map((id) => registry.byConnection(id)));
      expect(live.filter((l) => l !== undefined).map((l) => l.connectionId)).toEqual([current]);
      // Every connection but the current one was replaced exactly once.
      expect(replaced.filter((r) => r !== undefined).sort()).toEqual(
        ids.filter((id) => id !== current).sort(),
      );
    });
  });
}
