/**
 * The Web Push sender (docs/SERVICE.md §7.3) against a recording `fetch`: a VAPID-signed
 * (RFC 8292) POST of an `aes128gcm` message (RFC 8291) whose plaintext is empty, urgency high,
 * topic `wake`, no redirects followed, a timeout; 404 and 410 mean gone, any other non-2xx
 * throws. And the VAPID key pairs it signs with.
 */
import { createECDH, createPublicKey, verify } from 'node:crypto';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import {
  checkVapidKeys,
  generateVapidKeys,
  parseVapidSecret,
  StaticVapidKeys,
  vapidSecretJson,
} from '#functions/adapters/webpush/vapid-keys.ts';
import {
  type PushFetch,
  WakeupRefusedError,
  WebPushSender,
} from '#functions/adapters/webpush/web-push-sender.ts';
import type { WebPushSubscription } from '#functions/domain/wakeup-ports.ts';

const ece = createRequire(import.meta.url)('http_ece') as {
  decrypt(body: Buffer, params: Record<string, unknown>): Buffer;
};

const SUBJECT = 'mailto:ops@example.com';

function browser() {
  const ecdh = createECDH('prime256v1');
  ecdh.generateKeys();
  const auth = Buffer.alloc(16, 3);
  const subscription: WebPushSubscription = {
    kind: 'webpush',
    endpoint: 'https://fcm.googleapis.com/fcm/send/abc',
    p256dh: new Uint8Array(ecdh.getPublicKey()),
    auth: new Uint8Array(auth),
  };
  return { ecdh, auth, subscription };
}

function recording(status: number) {
  const calls: { url: string; init: RequestInit }[] = [];
  const fetch: PushFetch = async (url, init) => {
    calls.push({ url, init });
    return new Response(status === 204 ? null : 'body', { status });
  };
  return { calls, fetch };
}

describe('WebPushSender', () => {
  it('posts a VAPID-signed aes128gcm message with an empty plaintext', async () => {
    const keys = generateVapidKeys();
    const { ecdh, auth, subscription } = browser();
    const { calls, fetch } = recording(201);
    const sender = new WebPushSender({ keys: new StaticVapidKeys(keys), subject: SUBJECT, fetch });
    expect(await sender.wake(subscription)).toBe('sent');
    expect(calls).toHaveLength(1);
    const { url, init } = calls[0]!;
    expect(url).toBe(subscription.endpoint);
    expect(init.method).toBe('POST');
    expect(init.redirect).toBe('manual');
    expect(init.signal).toBeInstanceOf(AbortSignal);
    const headers = init.headers as Record<string, string>;
    expect(headers).toMatchObject({
      TTL: '86400',
      Urgency: 'high',
      Topic: 'wake',
      'Content-Encoding': 'aes128gcm',
      'Content-Type': 'application/octet-stream',
    });
    expect(Object.keys(headers).map((h) => h.toLowerCase())).not.toContain('content-length');

    // RFC 8291: 86-byte header, one record of the padding delimiter and the 16-byte tag.
    const body = Buffer.from(init.body as Uint8Array);
    expect(body.length).toBe(86 + 17);
    const plaintext = ece.decrypt(body, {
      version: 'aes128gcm',
      privateKey: ecdh,
      authSecret: auth.toString('base64url'),
    });
    expect(plaintext.length).toBe(0);

    // RFC 8292: vapid t=<JWT signed by the key>, k=<the public key>.
    const match = /^vapid t=([\w-]+)\.([\w-]+)\.([\w-]+), k=([\w-]+)$/.exec(
      headers['Authorization']!,
    );
    expect(match).not.toBeNull();
    const [, head, payload, signature, k] = match!;
    expect(k).toBe(keys.publicKey);
    const point = Buffer.from(keys.publicKey, 'base64url');
    const publicKey = createPublicKey({
      key: {
        kty: 'EC',
        crv: 'P-256',
        x: point.subarray(1, 33).toString('base64url'),
        y: point.subarray(33).toString('base64url'),
      },
      format: 'jwk',
    });
    const signed = verify(
      'sha256',
      Buffer.from(`${head}.${payload}`),
      { key: publicKey, dsaEncoding: 'ieee-p1363' },
      Buffer.from(signature!, 'base64url'),
    );
    expect(signed).toBe(true);
    const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString());
    expect(claims).toMatchObject({ aud: 'https://fcm.googleapis.com', sub: SUBJECT });
    expect(claims.exp * 1000).toBeGreaterThan(Date.now());
  });

  it('reports 404 and 410 as gone, throws on any other refusal', async () => {
    const { subscription } = browser();
    const keys = new StaticVapidKeys(generateVapidKeys());
    for (const status of [404, 410]) {
      const sender = new WebPushSender({ keys, subject: SUBJECT, fetch: recording(status).fetch });
      expect(await sender.wake(subscription), String(status)).toBe('gone');
    }
    for (const status of [400, 403, 413, 429, 500, 301]) {
      const sender = new WebPushSender({ keys, subject: SUBJECT, fetch: recording(status).fetch });
      const err = await sender.wake(subscription).catch((e: unknown) => e);
      expect(err, String(status)).toBeInstanceOf(WakeupRefusedError);
      expect((err as WakeupRefusedError).status).toBe(status);
      expect((err as Error).message).not.toContain('fcm.googleapis.com');
    }
    const down = new WebPushSender({
      keys,
      subject: SUBJECT,
      fetch: () => Promise.reject(new TypeError('fetch failed')),
    });
    await expect(down.wake(subscription)).rejects.toThrow('fetch failed');
  });

  it('gives up when the push service does not answer within the timeout', async () => {
    const { subscription } = browser();
    const hanging: PushFetch = (_url, init) =>
      new Promise((_resolve, reject) => {
        init.signal?.addEventListener('abort', () => reject(init.signal?.reason));
      });
    const sender = new WebPushSender({
      keys: new StaticVapidKeys(generateVapidKeys()),
      subject: SUBJECT,
      fetch: hanging,
      timeoutMs: 20,
    });
    await expect(sender.wake(subscription)).rejects.toMatchObject({ name: 'TimeoutError' });
  });
});

describe('VAPID keys', () => {
  it('generates pairs in the web-push format that round-trip through the secret JSON', () => {
    const keys = generateVapidKeys();
    expect(Buffer.from(keys.publicKey, 'base64url')).toHaveLength(65);
    expect(Buffer.from(keys.publicKey, 'base64url')[0]).toBe(4);
    expect(Buffer.from(keys.privateKey, 'base64url')).toHaveLength(32);
    expect(checkVapidKeys(keys)).toBe(keys);
    const json = vapidSecretJson(keys);
    expect(JSON.parse(json)).toEqual({ version: 1, ...keys });
    expect(parseVapidSecret(json)).toEqual(keys);
  });

  it('refuses a secret that is not a matching pair, without echoing it', () => {
    const a = generateVapidKeys();
    const b = generateVapidKeys();
    const bad = [
      'not json',
      JSON.stringify({ version: 2, ...a }),
      JSON.stringify({ version: 1, publicKey: a.publicKey }),
      JSON.stringify({ version: 1, publicKey: a.publicKey, privateKey: b.privateKey }),
      JSON.stringify({ version: 1, publicKey: a.publicKey, privateKey: `${a.privateKey}AA` }),
    ];
    for (const text of bad) {
      const err = (() => {
        try {
          parseVapidSecret(text);
        } catch (e) {
          return e as Error;
        }
      })();
      expect(err, text).toBeInstanceOf(RangeError);
      expect(err!.message).not.toContain(a.privateKey);
      expect(err!.message).not.toContain(b.privateKey);
    }
  });
});
