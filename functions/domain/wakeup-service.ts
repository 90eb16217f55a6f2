/**
 * Wake-ups of devices without a live connection (docs/SERVICE.md §7.4). A device registers one
 * push subscription; when a message is stored for it and the realtime notifier could not push
 * it to a live connection, the push service is asked to wake the device, which then connects
 * or polls. A wake-up carries no content (nothing about the message, its sender or its
 * recipient), goes out at once for a message into an empty mailbox and then at most once an
 * hour while messages wait (the throttle stores whole hours only), and a subscription the push
 * service
 * reports gone is removed. A wake-up never fails a send: every failure is swallowed and counted
 * in one JSON log line, `{"wakeupFailed":1}`, with nothing about the device or the endpoint.
 */
import type {
  PushKey,
  PushSubscribed,
  PushSubscriptionBody,
  PushUnsubscribed,
} from 'sealpost/wire/api';
import { toBase64Url } from 'sealpost/wire/api';
import type { Caller } from './auth-service.ts';
import type { ServiceConfig } from './config.ts';
import { ServiceError } from './errors.ts';
import { ceilHour } from './mailbox-positions.ts';
import type { Clock, DeviceRef } from './ports.ts';
import { allowedEndpoint, webPushSubscription } from './push-subscription.ts';
import type { Notifier } from './realtime-ports.ts';
import type { LiveDelivery, WakeupPorts } from './wakeup-ports.ts';

/**
 * What one {@link WakeupService.wake} did: `sent`; `none` (no subscription of this device
 * generation, its endpoint is no longer on the deployment's list, or wake-ups are off);
 * `throttled` (woken already while messages wait); `gone` (the push
 * service no longer knows the subscription: removed); `failed` (swallowed and logged).
 */
export type WakeOutcome = 'sent' | 'none' | 'throttled' | 'gone' | 'failed';

const notConfigured = () =>
  new ServiceError('NOT_CONFIGURED', 'wake-ups (Web Push) are not configured on this deployment');

/**
 * Push subscriptions of devices and their wake-ups.
 *
 * @example
 * const wakeups = new WakeupService(ports, Date.now, DEFAULT_CONFIG, console.log);
 * await wakeups.subscribe(caller, body);
 * await wakeups.wake(mailbox); // 'sent'
 */
export class WakeupService {
  constructor(
    private readonly ports: WakeupPorts | undefined,
    private readonly clock: Clock,
    private readonly config: Pick<ServiceConfig, 'wakeWindowMs'>,
    private readonly log: (line: string) => void,
  ) {}

  /** True when this deployment sends wake-ups. */
  get enabled(): boolean {
    return this.ports?.sender !== undefined && this.ports.webPush !== undefined;
  }

  /**
   * The VAPID public key browsers subscribe with (`applicationServerKey`).
   *
   * @example await wakeups.pushKey() // { applicationServerKey: 'BCi-...' }
   * @throws {ServiceError} `NOT_CONFIGURED` when wake-ups are off.
   */
  async pushKey(): Promise<PushKey> {
    const webPush = this.ports?.webPush;
    if (!webPush || !this.ports?.sender) throw notConfigured();
    return { applicationServerKey: toBase64Url(await webPush.applicationServerKey()) };
  }

  /**
   * Stores the caller device's Web Push subscription, replacing any it had (a new endpoint is
   * woken at the next message, whatever the old one had claimed).
   *
   * @example await wakeups.subscribe(caller, { endpoint, keys: { p256dh, auth } })
   * @throws {ServiceError} `NOT_CONFIGURED` when wake-ups are off; `BAD_REQUEST` when the
   *   endpoint is not a push service of the deployment's list or `p256dh` is not a P-256 key.
   */
  async subscribe(caller: Caller, body: PushSubscriptionBody): Promise<PushSubscribed> {
    const ports = this.ports;
    if (!ports?.webPush || !ports.sender) throw notConfigured();
    const subscription = webPushSubscription(body, ports.webPush.endpoints);
    await ports.subscriptions.put(caller.ref, subscription, this.clock());
    return { subscribed: true };
  }

  /**
   * Removes the caller device's subscription (also when wake-ups are off, so a device can
   * always withdraw its endpoint).
   *
   * @example await wakeups.unsubscribe(caller) // { removed: true }
   */
  async unsubscribe(caller: Caller): Promise<PushUnsubscribed> {
    const store = this.ports?.subscriptions;
    if (!store) return { removed: false };
    return { removed: await store.remove(caller.ref) };
  }

  /**
   * Wakes `mailbox`'s device: called after a message was stored for it and no live connection
   * took it. `firstPending` (the mailbox was empty before this message) always wakes;
   * otherwise at most one wake-up until `ceilHour(now + wakeWindowMs)` (an atomic claim, so
   * concurrent sends wake once). Never throws; a failure is counted in one log line.
   *
   * @example await wakeups.wake(mailbox, true) // 'sent', then 'throttled' while messages wait
   */
  async wake(mailbox: DeviceRef, firstPending = false): Promise<WakeOutcome> {
    const ports = this.ports;
    const sender = ports?.sender;
    if (!ports || !sender || !ports.webPush) return 'none';
    try {
      const stored = await ports.subscriptions.get(mailbox);
      // A subscription of an earlier device generation (the id was reused) is not this device's.
      if (!stored || stored.device.registrationId !== mailbox.registrationId) return 'none';
      // Checked again at every wake-up: a deployment that narrows its host list stops posting
      // to the hosts it dropped at once.
      if (allowedEndpoint(stored.subscription.endpoint, ports.webPush.endpoints) === undefined) {
        return 'none';
      }
      const now = this.clock();
      // A message into an empty mailbox always wakes: the device acknowledged everything
      // since its last wake-up. Otherwise at most one wake-up until a whole hour at least a
      // window away, so the claim dates no message's arrival finer than the hour (README
      // §Security model). Read first: most messages of a burst are throttled without a write.
      if (!firstPending && stored.wakeUntil !== undefined && now < stored.wakeUntil) {
        return 'throttled';
      }
      const until = ceilHour(now + this.config.wakeWindowMs);
      if (!(await ports.subscriptions.claimWake(mailbox, now, until, firstPending))) {
        return 'throttled';
      }
      if ((await sender.wake(stored.subscription)) === 'sent') return 'sent';
      await ports.subscriptions.remove(mailbox, stored.subscription);
      return 'gone';
    } catch {
      // A count only: which device or endpoint is never logged. The message stays stored; the
      // device gets it when it next connects or polls.
      this.log(JSON.stringify({ wakeupFailed: 1 }));
      return 'failed';
    }
  }
}

/**
 * The message service's notifier when wake-ups are on: the realtime notifier first (when there
 * is one), then a wake-up unless it reports the message `pushed` to a live connection. A
 * realtime failure still wakes the device and is then rethrown for the message service to
 * count (it never fails the send); the wake-up itself never throws.
 *
 * @example createServices(ports, { notify: { notifier: wakingNotifier(realtime, wakeups), log } })
 */
export function wakingNotifier(live: Notifier | undefined, wakeups: WakeupService): Notifier {
  return {
    async pushEarly(mailbox, message) {
      return (await live?.pushEarly?.(mailbox, message)) ?? 'offline';
    },
    async notify(mailbox, message, context) {
      let delivered: LiveDelivery | undefined;
      let failure: { readonly error: unknown } | undefined;
      try {
        delivered = await live?.notify(mailbox, message, context);
      } catch (error) {
        failure = { error };
      }
      if (delivered !== 'pushed') await wakeups.wake(mailbox, context?.firstPending === true);
      if (failure) throw failure.error;
    },
  };
}
