/**
 * `SealpostHttpClient.fetchMessages` (docs/SERVICE.md §7.2, docs/PROTOCOL.md §14.6): it asks for
 * shared payloads (`payloads=1`) unless told not to, carries acknowledgements as one
 * comma-separated `ack` parameter under the owner signature, and refuses an `ack` list the
 * service would refuse before sending anything.
 */

import * as v from 'valibot';
import { describe, expect, it } from 'vitest';
import { type FetchLike, MAX_FETCH_ACK_IDS, SealpostHttpClient } from '#sdk/client/http-client.ts';
import { seedSigner } from '#sdk/client/request-signing.ts';
import { nobleBackend } from '#sdk/crypto/noble-backend.ts';
import { ArgumentRangeError } from '#sdk/util/argument-errors.ts';
import { toBase64Url } from '#sdk/util/bytes.ts';
import { FetchQuerySchema } from '#sdk/wire/api/schemas.ts';
import { addressFromBytes } from '#sdk/wire/identity.ts';

const ADDRESS = addressFromBytes(new Uint8Array(20).fill(3));

function recorder(baseUrl = 'http://sealpost.test') {
  const urls: URL[] = [];
  const fetch: FetchLike = async (url) => {
    urls.push(new URL(url));
    return new Response(JSON.stringify({ messages: [] }), {
      status: 200,
      headers: { 'content-type': 'application/json' },
    });
  };
  const http = new SealpostHttpClient({
    baseUrl,
    fetch,
    backend: nobleBackend,
    signer: seedSigner(nobleBackend, ADDRESS, 2, new Uint8Array(32).fill(9)),
    trustRoot: new Uint8Array(32).fill(4),
    retries: 0,
  });
  return { http, urls };
}

const id = (n: number) => toBase64Url(Uint8Array.of(...new Uint8Array(15), n));
const query = (url: URL) => Object.fromEntries(url.searchParams);

describe('fetchMessages', () => {
  it('asks for payloads by default, and not when told not to', async () => {
    const { http, urls } = recorder();
    await http.fetchMessages();
    await http.fetchMessages({ limit: 5, cursor: id(1), payloads: false });
    expect(query(urls[0]!)).toEqual({ payloads: '1' });
    expect(query(urls[1]!)).toEqual({ limit: '5', cursor: id(1) });
  });

  it('carries acknowledgements as one ack parameter the service reads back as the ids', async () => {
    // The most a fetch carries, with every other parameter, under a base path: the signed
    // path and query stays within its bound.
    const { http, urls } = recorder(`http://sealpost.test/${'p'.repeat(299)}`);
    const ids = Array.from({ length: MAX_FETCH_ACK_IDS }, (_, i) => id(i));
    await http.fetchMessages({ ack: ids, cursor: id(200), limit: 100 });
    const sent = query(urls[0]!);
    expect(sent.ack).toBe(ids.join(','));
    // What the route validates the query with (as text, the way it arrives).
    expect(v.parse(FetchQuerySchema, sent)).toEqual({
      ack: ids,
      cursor: id(200),
      limit: 100,
      payloads: '1',
    });
  });

  it('refuses an empty, oversized or repeating ack list before any request', async () => {
    const { http, urls } = recorder();
    const tooMany = Array.from({ length: MAX_FETCH_ACK_IDS + 1 }, (_, i) => id(i));
    for (const ack of [[], tooMany, [id(1), id(1)]]) {
      await expect(http.fetchMessages({ ack })).rejects.toBeInstanceOf(ArgumentRangeError);
    }
    expect(urls).toEqual([]);
  });
});
