/**
 * {@link WakeupSender} over Web Push (RFC 8030) with VAPID (RFC 8292), built on the `web-push`
 * package. A wake-up carries no content: the request is the RFC 8291 `aes128gcm` encryption of
 * an empty plaintext (an 86-byte header and a 17-byte record: the padding delimiter and the
 * tag), so the push service and the browser learn nothing but that there is something to
 * fetch. (A request without a body is not used: web-push then sends no `Content-Encoding`,
 * and push service stand-ins that decrypt every message, such as web-push-testing, refuse it.)
 * Urgency `high`, topic `wake` (RFC 8030 §5.4: a wake-up still queued at the push service is
 * replaced, not stacked), TTL one day.
 *
 * web-push builds the request (`generateRequestDetails`: the VAPID JWT and the encryption);
 * it is posted with `fetch` rather than `sendNotification`, whose `https.request` cannot reach
 * the plain-HTTP loopback endpoints the local server and test kit allow, and which has no
 * overall timeout. Redirects are not followed (the checked host is the only one posted to).
 * web-push (about 115 KiB minified with its dependencies) is loaded on the first wake-up only,
 * so a cold start that wakes nobody does not pay for it.
 */
import type { PushSubscriptionRecord, WakeupSender } from '../../domain/wakeup-ports.ts';
import type { VapidKeyProvider } from './vapid-keys.ts';

/** Default timeout of one push request, in ms: a send waits for its wake-ups. */
export const DEFAULT_WAKE_TIMEOUT_MS = 3000;

/** Default lifetime of a wake-up queued at the push service for an unreachable device (s). */
export const DEFAULT_WAKE_TTL_SECONDS = 86_400;

/** The topic of every wake-up: a newer one replaces a queued one (RFC 8030 §5.4). */
export const WAKE_TOPIC = 'wake';

/** The empty plaintext every wake-up encrypts. */
const NO_CONTENT = Buffer.alloc(0);

/** The `fetch` the sender posts with (injectable for tests). */
export type PushFetch = (url: string, init: RequestInit) => Promise<Response>;

/** Options of {@link WebPushSender}. */
export interface WebPushSenderOptions {
  /** The VAPID key pair. */
  readonly keys: VapidKeyProvider;
  /** VAPID subject: a `mailto:` or `https:` URL where push services can reach the operator. */
  readonly subject: string;
  /** @default DEFAULT_WAKE_TIMEOUT_MS */
  readonly timeoutMs?: number;
  /** @default DEFAULT_WAKE_TTL_SECONDS */
  readonly ttlSeconds?: number;
  /** @default globalThis.fetch */
  readonly fetch?: PushFetch;
}

/** A push service answered a wake-up with a status other than 2xx, 404 or 410. */
export class WakeupRefusedError extends Error {
  /** The HTTP status (the endpoint is deliberately not kept). */
  readonly status: number;
  constructor(status: number) {
    super(`push service answered ${status}`);
    this.name = 'WakeupRefusedError';
    this.status = status;
  }
}

type WebPushModule = typeof import('web-push');

let webPushModule: Promise<WebPushModule> | undefined;

/** web-push, imported once on first use (a CommonJS package: its exports are `default`). */
function loadWebPush(): Promise<WebPushModule> {
  webPushModule ??= import('web-push').then((m) => m.default);
  return webPushModule;
}

/**
 * Wakes Web Push subscriptions.
 *
 * @example
 * const sender = new WebPushSender({ keys: new StaticVapidKeys(generateVapidKeys()), subject: 'mailto:ops@example.com' });
 * await sender.wake(subscription); // 'sent' | 'gone'
 */
export class WebPushSender implements WakeupSender {
  private readonly timeoutMs: number;
  private readonly ttlSeconds: number;
  private readonly fetch: PushFetch;

  constructor(private readonly options: WebPushSenderOptions) {
    this.timeoutMs = options.timeoutMs ?? DEFAULT_WAKE_TIMEOUT_MS;
    this.ttlSeconds = options.ttlSeconds ?? DEFAULT_WAKE_TTL_SECONDS;
    this.fetch = options.fetch ?? ((url, init) => fetch(url, init));
  }

  /**
   * Posts one contentless wake-up.
   *
   * @throws {WakeupRefusedError} on a status other than 2xx, 404 or 410; a network error or
   *   the timeout as `fetch` reports them; whatever web-push throws for a malformed key.
   */
  async wake(subscription: PushSubscriptionRecord): Promise<'sent' | 'gone'> {
    const [webPush, keys] = await Promise.all([loadWebPush(), this.options.keys.get()]);
    const request = webPush.generateRequestDetails(
      {
        endpoint: subscription.endpoint,
        keys: {
          p256dh: Buffer.from(subscription.p256dh).toString('base64url'),
          auth: Buffer.from(subscription.auth).toString('base64url'),
        },
      },
      NO_CONTENT,
      {
        vapidDetails: { subject: this.options.subject, ...keys },
        TTL: this.ttlSeconds,
        urgency: 'high',
        topic: WAKE_TOPIC,
        contentEncoding: 'aes128gcm',
      },
    );
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(request.headers)) {
      // fetch computes the length from the body itself.
      if (name.toLowerCase() !== 'content-length') headers[name] = String(value);
    }
    const response = await this.fetch(request.endpoint, {
      method: 'POST',
      headers,
      body: request.body ? new Uint8Array(request.body) : null,
      redirect: 'manual',
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    await response.body?.cancel().catch(() => undefined);
    if (response.status === 404 || response.status === 410) return 'gone';
    if (response.status < 200 || response.status > 299) {
      throw new WakeupRefusedError(response.status);
    }
    return 'sent';
  }
}
