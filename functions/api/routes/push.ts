/** Push subscriptions and the Web Push key (docs/SERVICE.md §7.3, wake-ups). */
import type { OperationHandlers } from '../operations.ts';

/** The VAPID key, and the signing device's subscription. */
export const pushHandlers = {
  pushKey: (c) => c.var.services.push.pushKey(),
  subscribePush: (c, { body }) => c.var.services.push.subscribe(c.var.caller, body),
  unsubscribePush: (c) => c.var.services.push.unsubscribe(c.var.caller),
} satisfies Partial<OperationHandlers>;
