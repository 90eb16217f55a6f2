/**
 * Ports of wake-ups (docs/SERVICE.md §7.3): waking a device that has no live connection when a
 * message is stored for it. Transport-neutral: a subscription is a record with a `kind`, and
 * a sender takes any kind, so an APNs or FCM transport is a new record kind and a new adapter
 * (a device token instead of an endpoint), not a change of the domain. Nothing here knows
 * about HTTP, Web Push libraries or AWS.
 */
import type { DeviceRef } from './ports.ts';

/** A device by its id alone: one subscription per device, as one live connection per device. */
export interface DeviceKey {
  readonly address: string;
  readonly deviceId: number;
}

/**
 * A Web Push subscription (RFC 8030, RFC 8291): where the push service accepts messages for the
 * browser, and the browser's keys that encrypt a message to it.
 */
export interface WebPushSubscription {
  readonly kind: 'webpush';
  /** The push service's URL for this browser (already checked against the deployment's hosts). */
  readonly endpoint: string;
  /** The browser's P-256 public key, uncompressed (65 bytes). */
  readonly p256dh: Uint8Array;
  /** The browser's authentication secret (16 bytes). */
  readonly auth: Uint8Array;
}

/** Every kind of subscription a device can hold (APNs or FCM device tokens would join here). */
export type PushSubscriptionRecord = WebPushSubscription;

/** The one string that tells two subscriptions of a kind apart (a Web Push endpoint). */
export function subscriptionTarget(subscription: PushSubscriptionRecord): string {
  return subscription.endpoint;
}

/** A device's stored subscription. */
export interface StoredPushSubscription {
  /** The device generation that subscribed (its registration id included). */
  readonly device: DeviceRef;
  readonly subscription: PushSubscriptionRecord;
  readonly createdAt: number;
  /**
   * A whole hour (epoch ms) before which the device is not woken again while messages wait,
   * if it was woken since it subscribed.
   */
  readonly wakeUntil?: number;
}

/**
 * The push subscriptions of devices, at most one per device (address and device id), stored
 * with the device generation that made it, so a device id reused by a new device never gets
 * an old subscription's wake-ups.
 */
export interface PushSubscriptionStore {
  /** Makes `subscription` the device's one subscription (replacing any, wake time included). */
  put(device: DeviceRef, subscription: PushSubscriptionRecord, createdAt: number): Promise<void>;
  /** The device's subscription, whichever generation made it, or undefined. */
  get(device: DeviceKey): Promise<StoredPushSubscription | undefined>;
  /**
   * Removes the device's subscription; with `only`, only while the stored one is still that
   * subscription (a wake-up that found it gone must not remove a newer one). True if removed.
   */
  remove(device: DeviceKey, only?: PushSubscriptionRecord): Promise<boolean>;
  /**
   * Atomically claims a wake-up of the device, holding off the next until `until` (a whole
   * hour), if its subscription belongs to `device`'s generation and, unless `force`, no claim
   * holds past `now`: true at most once per claim, however many callers race. False, and no
   * change, otherwise (also when there is no subscription).
   */
  claimWake(device: DeviceRef, now: number, until: number, force: boolean): Promise<boolean>;
}

/** How a wake-up reaches a device (a Web Push service, later APNs or FCM). */
export interface WakeupSender {
  /**
   * Sends one wake-up that carries no content. `gone` when the push service says the
   * subscription no longer exists (HTTP 404 or 410); any other failure throws.
   */
  wake(subscription: PushSubscriptionRecord): Promise<'sent' | 'gone'>;
}

/**
 * Which Web Push endpoints a deployment posts to. The service sends requests to a URL a client
 * chose, so an open list would let any client make it call anything (SSRF): only the hosts of
 * the browsers' push services, and plain-HTTP loopback only where the deployment allows it
 * (the local server and the test kit).
 */
export interface EndpointPolicy {
  /** Host names; `*.example.com` matches every subdomain of `example.com` (not itself). */
  readonly allowedHosts: readonly string[];
  /** Also accept `http://localhost`, `http://127.0.0.1` and `http://[::1]` with any port. */
  readonly allowLoopback: boolean;
}

/** The Web Push specifics the service answers with. */
export interface WebPushSettings {
  /** The VAPID public key (RFC 8292): an uncompressed P-256 point (65 bytes). */
  applicationServerKey(): Promise<Uint8Array>;
  readonly endpoints: EndpointPolicy;
}

/**
 * Everything wake-ups need. Without `sender` and `webPush` wake-ups are off: nothing is sent,
 * new subscriptions are refused, and the store still serves removals (a deployment that turns
 * wake-ups off keeps no subscription it can no longer remove).
 */
export interface WakeupPorts {
  readonly subscriptions: PushSubscriptionStore;
  readonly sender?: WakeupSender;
  readonly webPush?: WebPushSettings;
}

/**
 * What the realtime notifier reports about one stored message: `pushed` to the device's live
 * connection, `offline` (no live connection of that device generation, or it was gone), or
 * `failed` (the push could not be attempted or failed; whether it arrived is unknown).
 */
export type LiveDelivery = 'pushed' | 'offline' | 'failed';
