/**
 * Wake-ups of an offline device (docs/SDK.md, "Wake-ups"; docs/SERVICE.md §7.3): the device
 * registers a Web Push subscription, and the service asks its push service to wake it when a
 * message is stored while it has no live connection. A wake-up carries no content: the service
 * worker that receives it opens the client and receives as usual.
 *
 * The browser types are structural (no DOM library needed, so the SDK compiles for Node
 * consumers); a `ServiceWorkerRegistration` and a `PushSubscription` fit them as they are.
 */
import { ArgumentRangeError, ArgumentTypeError } from '../util/argument-errors.ts';
import { toBase64Url, tryFromBase64Url } from '../util/bytes.ts';
import {
  MAX_PUSH_ENDPOINT_LENGTH,
  PUSH_AUTH_BYTES,
  PUSH_P256DH_BYTES,
  type PushSubscriptionBody,
} from '../wire/api/schemas.ts';
import type { CallOptions } from './call-options.ts';
import type { SealpostHttpClient } from './http-client.ts';

/** A push subscription as `PushSubscription.toJSON()` gives it (fields checked at run time). */
export interface PushSubscriptionJson {
  readonly endpoint?: string | null;
  readonly expirationTime?: number | null;
  readonly keys?: Readonly<Record<string, string>> | null;
}

/** A browser `PushSubscription` (what {@link PushSubscriptionJson} it serializes to). */
export interface PushSubscriptionLike {
  toJSON(): PushSubscriptionJson;
}

/** The options the SDK passes to `pushManager.subscribe`. */
export interface PushSubscribeOptions {
  /** Always true: browsers only allow push that the user can see the effect of. */
  readonly userVisibleOnly: boolean;
  /** The service's VAPID public key (65 bytes), from `GET /v1/push/key`. */
  readonly applicationServerKey: Uint8Array<ArrayBuffer>;
}

/** A browser `ServiceWorkerRegistration`: only its `pushManager.subscribe` is used. */
export interface PushRegistrationLike {
  readonly pushManager: {
    subscribe(options: PushSubscribeOptions): Promise<PushSubscriptionLike>;
  };
}

/**
 * What `client.subscribePush` registers: a service worker registration (the SDK
 * fetches the service's key and subscribes through its `pushManager`), or a subscription the
 * app already has (a `PushSubscription` or its `toJSON()` shape). `signal` and `timeoutMs`
 * apply to the SDK's requests.
 */
export type SubscribePushOptions = (
  | { readonly registration: PushRegistrationLike; readonly subscription?: undefined }
  | {
      readonly subscription: PushSubscriptionLike | PushSubscriptionJson;
      readonly registration?: undefined;
    }
) &
  CallOptions;

function isSubscriptionObject(
  input: PushSubscriptionLike | PushSubscriptionJson,
): input is PushSubscriptionLike {
  return typeof (input as Partial<PushSubscriptionLike>).toJSON === 'function';
}

/** Decodes a key of a subscription: base64url, padded or not, of exactly `bytes` bytes. */
function subscriptionKey(value: unknown, name: string, bytes: number): Uint8Array {
  if (typeof value !== 'string') throw new ArgumentTypeError(`${name} must be a string`);
  const decoded = tryFromBase64Url(value.replace(/=+$/, ''));
  if (decoded === undefined) throw new ArgumentTypeError(`${name} is not base64url`);
  if (decoded.length !== bytes) {
    throw new ArgumentRangeError(`${name} must be ${bytes} bytes, got ${decoded.length}`);
  }
  return decoded;
}

/**
 * The request body of a subscription: its endpoint (an absolute http(s) URL of at most 1024
 * characters; which hosts the service accepts is its own setting) and its keys, re-encoded as
 * unpadded base64url.
 *
 * @example pushSubscriptionBody(subscription.toJSON()).endpoint
 * @throws {ArgumentTypeError} if a field is missing, not a string or not base64url.
 * @throws {ArgumentRangeError} if the endpoint is too long or not an http(s) URL, or a key has
 *   the wrong size (`p256dh` 65 bytes, an uncompressed point; `auth` 16 bytes).
 */
export function pushSubscriptionBody(
  input: PushSubscriptionLike | PushSubscriptionJson,
): PushSubscriptionBody {
  if (input === null || typeof input !== 'object') {
    throw new ArgumentTypeError('subscription must be a PushSubscription or its JSON');
  }
  const json = isSubscriptionObject(input) ? input.toJSON() : input;
  const endpoint = json?.endpoint;
  if (typeof endpoint !== 'string') {
    throw new ArgumentTypeError('subscription.endpoint must be a string');
  }
  if (endpoint.length > MAX_PUSH_ENDPOINT_LENGTH) {
    throw new ArgumentRangeError(
      `subscription.endpoint must be at most ${MAX_PUSH_ENDPOINT_LENGTH} characters`,
    );
  }
  let protocol: string;
  try {
    protocol = new URL(endpoint).protocol;
  } catch {
    throw new ArgumentRangeError('subscription.endpoint is not an absolute URL');
  }
  if (protocol !== 'https:' && protocol !== 'http:') {
    throw new ArgumentRangeError('subscription.endpoint must be an https URL');
  }
  const keys = json.keys;
  if (keys === null || typeof keys !== 'object') {
    throw new ArgumentTypeError('subscription.keys must hold p256dh and auth');
  }
  const p256dh = subscriptionKey(keys['p256dh'], 'subscription.keys.p256dh', PUSH_P256DH_BYTES);
  if (p256dh[0] !== 4) {
    throw new ArgumentRangeError('subscription.keys.p256dh must be an uncompressed P-256 point');
  }
  const auth = subscriptionKey(keys['auth'], 'subscription.keys.auth', PUSH_AUTH_BYTES);
  return { endpoint, keys: { p256dh: toBase64Url(p256dh), auth: toBase64Url(auth) } };
}

/**
 * Registers this device's push subscription with the service (see {@link SubscribePushOptions}).
 * With a registration, the subscription is made with the service's own key, so the service can
 * reach it. Returns what was registered.
 *
 * @example await subscribePush(http, { registration: await navigator.serviceWorker.ready });
 * @throws {ArgumentTypeError | ArgumentRangeError} on a malformed subscription or registration.
 * @throws {ApiError} `NOT_CONFIGURED` when the deployment has no wake-ups; `BAD_REQUEST` when
 *   it does not post to the subscription's push service.
 */
export async function subscribePush(
  http: SealpostHttpClient,
  options: SubscribePushOptions,
  call?: CallOptions,
): Promise<PushSubscriptionBody> {
  if (options === null || typeof options !== 'object') {
    throw new ArgumentTypeError('options must hold a registration or a subscription');
  }
  let subscription: PushSubscriptionLike | PushSubscriptionJson;
  if (options.registration !== undefined) {
    const manager = options.registration?.pushManager;
    if (!manager || typeof manager.subscribe !== 'function') {
      throw new ArgumentTypeError('registration has no pushManager (Push API unsupported)');
    }
    const { applicationServerKey } = await http.pushKey(call);
    const key = subscriptionKey(applicationServerKey, 'applicationServerKey', PUSH_P256DH_BYTES);
    subscription = await manager.subscribe({
      userVisibleOnly: true,
      // A copy on its own ArrayBuffer: the DOM's BufferSource takes no shared buffer.
      applicationServerKey: new Uint8Array(key),
    });
  } else if (options.subscription !== undefined) {
    subscription = options.subscription;
  } else {
    throw new ArgumentTypeError('options must hold a registration or a subscription');
  }
  const body = pushSubscriptionBody(subscription);
  await http.subscribePush(body, call);
  return body;
}
