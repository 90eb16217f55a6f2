/**
 * A {@link MessageService} over given ports with one recipient account, driven without HTTP:
 * the mailbox tests exercise storage, not authentication.
 */

import type { Caller } from '#functions/domain/auth-service.ts';
import { DEFAULT_CONFIG, type ServiceConfig } from '#functions/domain/config.ts';
import { randomBytes, sha256 } from '#functions/domain/crypto.ts';
import { MessageService } from '#functions/domain/message-service.ts';
import type { DeviceRecord, Ports } from '#functions/domain/ports.ts';
import { deviceRef } from '#functions/domain/records.ts';
import { toBase64Url } from '#sdk/wire/api/codec.ts';
import type { DeliveredMessage } from '#sdk/wire/api/schemas.ts';
import { newAccount } from '../fixtures.ts';

/** A test clock. */
export interface TestClock {
  now: number;
}

function device(deviceId: number): DeviceRecord {
  const key = { id: 1, publicKey: randomBytes(32), signature: randomBytes(64) };
  return {
    deviceId,
    identity: randomBytes(160),
    signedPrekey: key,
    lastResortKemPrekey: { ...key, publicKey: randomBytes(1568) },
    frankingKey: randomBytes(32),
    createdAt: 0,
  };
}

/**
 * Registers an account with `devices` devices directly in the account store and returns the
 * service, the devices as callers and helpers that speak the wire shapes.
 */
export async function mailboxFixture(
  ports: Pick<Ports, 'accounts' | 'index' | 'blobs' | 'limiter'>,
  options: { devices?: number; config?: Partial<ServiceConfig>; start?: number } = {},
) {
  const clock: TestClock = { now: options.start ?? Date.now() };
  const config = { ...DEFAULT_CONFIG, ...options.config };
  const account = newAccount();
  const accessKey = randomBytes(16);
  const records = Array.from({ length: options.devices ?? 1 }, (_, i) => device(i + 1));
  await ports.accounts.create(
    {
      address: account.address,
      accountPublic: account.publicKey,
      accessKeyHash: sha256(accessKey),
      unrestricted: false,
      createdAt: 0,
    },
    records[0]!,
  );
  for (const d of records.slice(1)) await ports.accounts.addDevice(account.address, d);
  const view = (await ports.accounts.get(account.address))!;
  const callers: Caller[] = records.map((d) => ({
    address: account.address,
    deviceId: d.deviceId,
    device: d,
    ref: deviceRef(account.address, d),
    view,
    accountSigned: false,
  }));
  const service = new MessageService(
    ports.accounts,
    ports.index,
    ports.blobs,
    ports.limiter,
    () => clock.now,
    config,
    randomBytes,
  );
  return {
    service,
    clock,
    callers,
    address: account.address,
    /** A sealed send of one envelope per device (`bodies[i]` to device i + 1). */
    send: (requestId: Uint8Array, bodies: readonly Uint8Array[]) =>
      service.sendSealed(account.address, toBase64Url(accessKey), {
        messageId: toBase64Url(requestId),
        envelopes: bodies.map((b, i) => ({
          deviceId: i + 1,
          registrationId: callers[i]!.ref.registrationId,
          envelope: toBase64Url(b),
        })),
      }),
    /** Every pending message of a device, following cursors. */
    fetchAll: async (caller: Caller, limit = 100): Promise<DeliveredMessage[]> => {
      const out: DeliveredMessage[] = [];
      let cursor: string | undefined;
      do {
        const page = await service.fetch(caller, limit, cursor);
        out.push(...page.messages);
        cursor = page.cursor;
      } while (cursor !== undefined);
      return out;
    },
  };
}
