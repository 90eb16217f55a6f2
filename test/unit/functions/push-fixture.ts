/**
 * Wake-up ports for tests of the HTTP app (docs/SERVICE.md §7.3): an in-memory subscription
 * store, a sender that records what it was asked to wake, and a fixed VAPID public key, with
 * the browsers' push services as the endpoint list.
 */
import { createECDH } from 'node:crypto';
import { MemoryPushSubscriptions } from '#functions/adapters/memory/memory-push-subscriptions.ts';
import type { WakeupOptions } from '#functions/api/compose.ts';
import { DEFAULT_PUSH_ALLOWED_HOSTS } from '#functions/deployment.ts';
import type { PushSubscriptionRecord } from '#functions/domain/wakeup-ports.ts';

/** The VAPID public key the test wake-ups serve (a real P-256 point). */
export const TEST_VAPID_PUBLIC_KEY = new Uint8Array(createECDH('prime256v1').generateKeys());

/** Test wake-ups: the store and what was woken, for assertions. */
export interface TestWakeups extends WakeupOptions {
  readonly subscriptions: MemoryPushSubscriptions;
  readonly woken: PushSubscriptionRecord[];
}

/**
 * Wake-ups that record instead of sending.
 *
 * @example const wakeups = testWakeups({ allowLoopback: true });
 */
export function testWakeups(
  options: { allowLoopback?: boolean; log?: (line: string) => void } = {},
): TestWakeups {
  const woken: PushSubscriptionRecord[] = [];
  return {
    subscriptions: new MemoryPushSubscriptions(),
    woken,
    sender: {
      wake: async (subscription) => {
        woken.push(subscription);
        return 'sent';
      },
    },
    webPush: {
      applicationServerKey: async () => TEST_VAPID_PUBLIC_KEY,
      endpoints: {
        allowedHosts: DEFAULT_PUSH_ALLOWED_HOSTS,
        allowLoopback: options.allowLoopback ?? false,
      },
    },
    log: options.log ?? (() => undefined),
  };
}
