/**
 * `TestSealpost.listen()`: the in-process service on a local port with CORS open, for an app's
 * browser tests. Real `fetch` over a socket, as a browser page or Playwright would reach it.
 */
import { TestSealpost } from '@sealpost/testing';
import { describe, expect, it } from 'vitest';
import { MemoryStore, SealpostClient } from '#sdk/index.ts';

describe('TestSealpost.listen', () => {
  it('serves clients over a real socket at the returned URL', async () => {
    const sealpost = await TestSealpost.start();
    const { url, close } = await sealpost.listen();
    try {
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const options = { baseUrl: url, trust: sealpost.trust, now: sealpost.now };
      const alice = await SealpostClient.register({ ...options, store: new MemoryStore() });
      const bob = await SealpostClient.register({ ...options, store: new MemoryStore() });
      await alice.addContact(bob.contactCard());
      await bob.addContact(alice.contactCard());
      await alice.send(bob.address, 'over a socket');
      const { messages } = await bob.receiveBatch();
      expect(messages.map((m) => m.text)).toEqual(['over a socket']);
    } finally {
      await close();
    }
    // Closed: the port no longer answers.
    await expect(fetch(`${url}/v1/health`)).rejects.toThrow(TypeError);
  });

  it('answers a CORS preflight for the signed headers and exposes Retry-After', async () => {
    const sealpost = await TestSealpost.start();
    const { url, close } = await sealpost.listen();
    try {
      const preflight = await fetch(`${url}/v1/messages`, {
        method: 'OPTIONS',
        headers: {
          origin: 'http://app.localhost:5173',
          'access-control-request-method': 'GET',
          'access-control-request-headers': 'x-sealpost-address,x-sealpost-signature',
        },
      });
      expect(preflight.status).toBe(204);
      expect(preflight.headers.get('access-control-allow-origin')).toBe('*');
      expect(preflight.headers.get('access-control-allow-headers')).toBe(
        'x-sealpost-address,x-sealpost-signature',
      );
      expect(preflight.headers.get('access-control-allow-methods')).toContain('PUT');

      const health = await fetch(`${url}/v1/health`, {
        headers: { origin: 'http://app.localhost:5173' },
      });
      expect(await health.json()).toEqual({ status: 'ok' });
      expect(health.headers.get('access-control-allow-origin')).toBe('*');
      expect(health.headers.get('access-control-expose-headers')).toContain('retry-after');

      // Errors keep the service's JSON body and carry the CORS headers too.
      const missing = await fetch(`${url}/v1/nowhere`, { headers: { origin: 'http://a.test' } });
      expect(missing.status).toBe(404);
      expect(missing.headers.get('access-control-allow-origin')).toBe('*');
      expect(await missing.json()).toMatchObject({ error: { code: 'NOT_FOUND' } });
    } finally {
      await close();
    }
  });

  it('limits CORS to the configured origins', async () => {
    const sealpost = await TestSealpost.start();
    const { url, close } = await sealpost.listen({ corsOrigin: ['http://app.test'] });
    try {
      const allowed = await fetch(`${url}/v1/health`, { headers: { origin: 'http://app.test' } });
      expect(allowed.headers.get('access-control-allow-origin')).toBe('http://app.test');
      const other = await fetch(`${url}/v1/health`, { headers: { origin: 'http://evil.test' } });
      expect(other.headers.get('access-control-allow-origin')).toBeNull();
    } finally {
      await close();
    }
  });
});
