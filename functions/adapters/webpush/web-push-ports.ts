/**
 * The Web Push half of the wake-up ports (docs/SERVICE.md §7.3): the sender and the settings
 * the service answers with, over one VAPID key pair. Shared by the Lambda composition root,
 * the local server and the test kit.
 */
import { fromBase64Url } from 'sealpost/wire/api';
import type { EndpointPolicy, WakeupSender, WebPushSettings } from '../../domain/wakeup-ports.ts';
import type { VapidKeyProvider } from './vapid-keys.ts';
import { type PushFetch, WebPushSender } from './web-push-sender.ts';

/** What {@link webPushPorts} needs. */
export interface WebPushPortsOptions {
  /** The VAPID key pair. */
  readonly keys: VapidKeyProvider;
  /** VAPID subject: a `mailto:` or `https:` URL. */
  readonly subject: string;
  /** Which endpoints subscriptions may name. */
  readonly endpoints: EndpointPolicy;
  /** Timeout of one push request (ms). @default DEFAULT_WAKE_TIMEOUT_MS */
  readonly timeoutMs?: number;
  /** @default globalThis.fetch */
  readonly fetch?: PushFetch;
}

/**
 * The Web Push sender and settings over one key pair.
 *
 * @example
 * const wakeups = { subscriptions, ...webPushPorts({ keys, subject: 'mailto:ops@example.com', endpoints }) };
 */
export function webPushPorts(options: WebPushPortsOptions): {
  readonly sender: WakeupSender;
  readonly webPush: WebPushSettings;
} {
  const { keys } = options;
  return {
    sender: new WebPushSender({
      keys,
      subject: options.subject,
      ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
      ...(options.fetch ? { fetch: options.fetch } : {}),
    }),
    webPush: {
      applicationServerKey: async () =>
        fromBase64Url((await keys.get()).publicKey, 'VAPID public key'),
      endpoints: options.endpoints,
    },
  };
}
