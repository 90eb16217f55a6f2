/**
 * Checks of a Web Push subscription a device registers (docs/SERVICE.md §7.3). The wire schema
 * bounds the shape (an absolute URL of at most 1024 characters, a 65-byte point starting with
 * 4, a 16-byte secret); what depends on the deployment or needs arithmetic is checked here:
 * the endpoint's scheme and host against the deployment's list (the service posts to it, so an
 * open endpoint would be a server-side request forgery hole) and the key being on the curve.
 */
import { createPublicKey } from 'node:crypto';
import { fromBase64Url, type PushSubscriptionBody } from 'sealpost/wire/api';
import { ServiceError } from './errors.ts';
import type { EndpointPolicy, WebPushSubscription } from './wakeup-ports.ts';

/** Host names of plain-HTTP loopback endpoints, as `URL.hostname` spells them. */
const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * True if `hostname` is `pattern`, or `pattern` is `*.suffix` and `hostname` is a subdomain of
 * `suffix` (one label or more; not `suffix` itself). Both are compared lower-case.
 *
 * @example hostMatches('web.push.apple.com', '*.push.apple.com') // true
 */
export function hostMatches(hostname: string, pattern: string): boolean {
  const host = hostname.toLowerCase();
  const p = pattern.toLowerCase();
  if (!p.startsWith('*.')) return host === p;
  const suffix = p.slice(1);
  return host.length > suffix.length && host.endsWith(suffix);
}

/**
 * The endpoint as the service will post to it (its normalized `URL.href`), if `policy` allows
 * it: `https:` on the default port to an allowed host, or, where the policy allows loopback,
 * `http:` to localhost, 127.0.0.1 or [::1] on any port. Never user info.
 *
 * @example allowedEndpoint('https://fcm.googleapis.com/fcm/send/x', policy) // the same URL
 */
export function allowedEndpoint(endpoint: string, policy: EndpointPolicy): string | undefined {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    return undefined;
  }
  if (url.username !== '' || url.password !== '') return undefined;
  if (url.protocol === 'https:') {
    if (url.port !== '') return undefined;
    return policy.allowedHosts.some((h) => hostMatches(url.hostname, h)) ? url.href : undefined;
  }
  if (url.protocol === 'http:' && policy.allowLoopback && LOOPBACK_HOSTS.has(url.hostname)) {
    return url.href;
  }
  return undefined;
}

/** True if `point` is an uncompressed P-256 point on the curve (SEC 1 §2.3.4). */
function isP256Point(point: Uint8Array): boolean {
  if (point.length !== 65 || point[0] !== 4) return false;
  try {
    createPublicKey({
      key: {
        kty: 'EC',
        crv: 'P-256',
        x: Buffer.from(point.subarray(1, 33)).toString('base64url'),
        y: Buffer.from(point.subarray(33)).toString('base64url'),
      },
      format: 'jwk',
    });
    return true;
  } catch {
    return false;
  }
}

/**
 * The subscription record of a validated request body.
 *
 * @example const record = webPushSubscription(body, { allowedHosts: DEFAULT_PUSH_ALLOWED_HOSTS, allowLoopback: false });
 * @throws {ServiceError} `BAD_REQUEST` if the endpoint is not one the deployment posts to, or
 *   `p256dh` is not a point of P-256. The message never repeats the endpoint.
 */
export function webPushSubscription(
  body: PushSubscriptionBody,
  policy: EndpointPolicy,
): WebPushSubscription {
  const endpoint = allowedEndpoint(body.endpoint, policy);
  if (endpoint === undefined) {
    throw new ServiceError('BAD_REQUEST', 'endpoint is not a push service this deployment uses');
  }
  const p256dh = fromBase64Url(body.keys.p256dh, 'keys.p256dh');
  if (!isP256Point(p256dh)) {
    throw new ServiceError('BAD_REQUEST', 'keys.p256dh is not a P-256 public key');
  }
  return { kind: 'webpush', endpoint, p256dh, auth: fromBase64Url(body.keys.auth, 'keys.auth') };
}
