/**
 * 10,000 mutated reports into `POST /v1/reports` (docs/SAFETY.md §5, docs/SERVICE.md): a real,
 * verifiable report of a sealed message, captured from the SDK, is mutated (fields removed,
 * retyped, resized, bit-flipped, swapped between messages; the raw JSON truncated, spliced and
 * garbled) and each mutant is sent **signed by the reporting device**, so it gets past
 * authentication and into the schema and the verifier. Every answer must be a JSON 4xx with
 * `{ error: { code, message } }`; nothing may be stored for a mutant; and afterwards the
 * original report still verifies (as a duplicate of the one stored first), so no mutant
 * corrupted state.
 */

import { TestSealpost } from '@sealpost/testing';
import { describe, expect, it } from 'vitest';
import type { FetchLike } from '#sdk/client/index.ts';
import { seedSigner, signRequest } from '#sdk/client/request-signing.ts';
import { defaultBackend } from '#sdk/crypto/index.ts';
import { ProtocolEngine } from '#sdk/protocol/engine.ts';
import { MemoryStore } from '#sdk/state/memory-store.ts';
import { fromBase64Url, toBase64Url } from '#sdk/util/bytes.ts';

const MUTANTS = 10_000;
const PATH = '/v1/reports';
type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** A small deterministic PRNG (xorshift32), so a failing mutant can be replayed by its index. */
function prng(seed: number) {
  let x = seed >>> 0 || 1;
  const next = () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
  return {
    int: (n: number) => next() % n,
    pick: <T>(items: readonly T[]): T => items[next() % items.length] as T,
  };
}
type Rand = ReturnType<typeof prng>;

/** Every path to a value inside `v` (object keys and array indexes). */
function paths(v: Json, prefix: (string | number)[] = []): (string | number)[][] {
  if (v === null || typeof v !== 'object') return [prefix];
  const keys: (string | number)[] = Array.isArray(v) ? v.map((_, i) => i) : Object.keys(v);
  return [
    prefix,
    ...keys.flatMap((k) => paths((v as Record<string, Json>)[k] as Json, [...prefix, k])),
  ];
}

function getAt(v: Json, path: readonly (string | number)[]): Json {
  let cur: Json = v;
  for (const k of path) cur = (cur as Record<string, Json>)[k as string] as Json;
  return cur;
}

function setAt(v: Json, path: readonly (string | number)[], value: Json | undefined): Json {
  if (path.length === 0) return value === undefined ? null : value;
  const copy = structuredClone(v) as Record<string, Json> | Json[];
  let cur = copy as Record<string, Json>;
  for (const k of path.slice(0, -1)) cur = cur[k as string] as Record<string, Json>;
  const last = path[path.length - 1] as string;
  if (value === undefined) {
    if (Array.isArray(cur)) cur.splice(Number(last), 1);
    else delete cur[last];
  } else {
    cur[last] = value;
  }
  return copy as Json;
}

/** A base64url string with one bit flipped in its decoded bytes (or a character changed). */
function flipBase64(s: string, r: Rand): string {
  try {
    const bytes = fromBase64Url(s);
    if (bytes.length > 0) {
      bytes[r.int(bytes.length)]! ^= 1 << r.int(8);
      return toBase64Url(bytes);
    }
  } catch {
    // not base64url: change a character instead
  }
  const i = r.int(Math.max(1, s.length));
  return s.slice(0, i) + r.pick(['A', '_', '-', '=', '+', '/', ' ', 'é']) + s.slice(i + 1);
}

const ODD_VALUES: Json[] = [
  null,
  true,
  0,
  -1,
  1.5,
  2 ** 32,
  2 ** 53,
  -(2 ** 53),
  1e308,
  '',
  'x',
  'AAAA',
  '💥',
  [],
  {},
  [1, 2, 3],
  { a: 1 },
];

/** One mutation of the parsed report; returns the body text to send. */
function mutate(report: Json, r: Rand): string {
  const all = paths(report);
  const path = r.pick(all);
  const value = getAt(report, path);
  switch (r.int(12)) {
    case 0: // drop a field or an array element
      return JSON.stringify(setAt(report, path, undefined));
    case 1: // replace with a value of another type or range
      return JSON.stringify(setAt(report, path, r.pick(ODD_VALUES)));
    case 2: // flip one bit of a base64url field (the verifier's territory)
    case 3:
      return JSON.stringify(
        setAt(report, path, typeof value === 'string' ? flipBase64(value, r) : r.pick(ODD_VALUES)),
      );
    case 4: // truncate or extend a string
      return JSON.stringify(
        setAt(
          report,
          path,
          typeof value === 'string'
            ? r.int(2) === 0
              ? value.slice(0, r.int(value.length + 1))
              : value + 'A'.repeat(1 + r.int(64))
            : 'AAAA',
        ),
      );
    case 5: {
      // swap a field's value with another field's
      const other = getAt(report, r.pick(all));
      return JSON.stringify(setAt(report, path, other));
    }
    case 6: // an unknown extra field
      return JSON.stringify(
        typeof value === 'object' && value !== null && !Array.isArray(value)
          ? setAt(report, [...path, `extra${r.int(9)}`], 'x')
          : setAt(report, ['extra'], 1),
      );
    case 7: {
      // too many previous messages, or a previous that is the reported message itself
      const message = getAt(report, ['message']);
      const previous = Array.from({ length: r.int(2) === 0 ? 6 : 1 }, () => message);
      return JSON.stringify(setAt(report, ['previous'], previous));
    }
    case 8: {
      // numbers at the edges (times, key ids)
      const message = getAt(report, ['message']) as Record<string, Json>;
      const field = r.pick(['receivedAt', 'moderatorKeyId']);
      const edge = r.pick([0, -1, 2 ** 32, 2 ** 53, Date.now() + 86_400_000, 1.25]);
      return JSON.stringify(setAt(report, ['message'], { ...message, [field]: edge }));
    }
    case 9: {
      // the raw text truncated
      const text = JSON.stringify(report);
      return text.slice(0, r.int(text.length));
    }
    case 10: {
      // the raw text with one character replaced
      const text = JSON.stringify(report);
      const i = r.int(text.length);
      return (
        text.slice(0, i) +
        r.pick(['{', '}', '"', ',', '\\', '\u0000', ']', '9']) +
        text.slice(i + 1)
      );
    }
    default: // not JSON at all, or a JSON value that is not an object
      return r.pick([
        '',
        'null',
        '[]',
        '"report"',
        '42',
        'undefined',
        '{"reason":',
        'x'.repeat(3_000_000),
      ]);
  }
}

describe('the report route under 10,000 mutated reports', () => {
  it('answers every mutant with a JSON 4xx, stores nothing for them, and still verifies the original', async () => {
    const sealpost = await TestSealpost.start({
      // A real deployment limits reports per reporter; the fuzz needs every mutant to reach the
      // schema and the verifier, so the limit is lifted here.
      config: { reportRateLimit: { limit: 1_000_000, windowMs: 3_600_000 } },
    });
    const alice = await sealpost.register();
    const bobStore = new MemoryStore();
    let captured: string | undefined;
    const capturing: FetchLike = async (url, init) => {
      if (
        init.method === 'POST' &&
        new URL(url).pathname === PATH &&
        typeof init.body === 'string'
      ) {
        captured = init.body;
      } else if (init.method === 'POST' && new URL(url).pathname === PATH && init.body) {
        captured = new TextDecoder().decode(init.body as Uint8Array);
      }
      return sealpost.fetch(url, init);
    };
    const bob = await sealpost.register({ store: bobStore, fetch: capturing });
    await alice.addContact(bob.contactCard());
    await bob.addContact(alice.contactCard());
    for (const t of ['hello', 'again', 'the reported one']) await alice.send(bob.address, t);
    const { messages } = await bob.receiveBatch();
    expect(messages.map((m) => m.text)).toEqual(['hello', 'again', 'the reported one']);
    const first = await bob.report(messages[2]!, { reason: 'spam', includePrevious: 2 });
    expect(first.duplicate).toBe(false);
    expect(captured).toBeDefined();
    const original = JSON.parse(captured!) as Json;
    expect((original as { previous: Json[] }).previous).toHaveLength(2);

    const engine = await ProtocolEngine.open({ store: bobStore, trust: sealpost.trust });
    const signer = seedSigner(defaultBackend, bob.address, bob.deviceId, engine.signer.signingSeed);
    const ctx = {
      backend: defaultBackend,
      rng: (n: number) => crypto.getRandomValues(new Uint8Array(n)),
      now: sealpost.now,
      signer,
      audience: sealpost.trust.trustRoot,
    };
    const post = async (body: string) => {
      const bytes = new TextEncoder().encode(body);
      const headers = await signRequest(ctx, 'POST', PATH, bytes);
      return sealpost.fetch(`${sealpost.baseUrl}${PATH}`, {
        method: 'POST',
        headers: { ...headers, 'content-type': 'application/json' },
        body: bytes,
      });
    };
    const reportsBefore = (
      await sealpost.moderation.reports.list('open', { limit: 100, now: sealpost.now() })
    ).items.length;

    const r = prng(0x5ea1);
    const codes = new Map<string, number>();
    const bad: string[] = [];
    for (let i = 0; i < MUTANTS; i++) {
      const body = mutate(original, r);
      if (body === captured) continue; // a mutation that changed nothing (e.g. a self-swap)
      const res = await post(body);
      const text = await res.text();
      let json: { error?: { code?: unknown; message?: unknown } } | undefined;
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
      const ok =
        res.status >= 400 &&
        res.status < 500 &&
        (res.headers.get('content-type') ?? '').includes('application/json') &&
        typeof json?.error?.code === 'string' &&
        typeof json.error.message === 'string';
      // A duplicate of the stored report is the one acceptable success: a mutation the JSON
      // parser cannot see (e.g. a key reordered by a swap of equal values).
      const duplicate = res.status === 200 && text.includes('"duplicate":true');
      if (!ok && !duplicate) bad.push(`#${i} ${res.status} ${text.slice(0, 120)}`);
      if (json?.error?.code) {
        const code = String(json.error.code);
        codes.set(code, (codes.get(code) ?? 0) + 1);
      }
    }
    expect(bad).toEqual([]);
    // The mutants reached every layer: the body parser, the schema and the verifier.
    expect(codes.get('BAD_REQUEST') ?? 0).toBeGreaterThan(1_000);
    expect(codes.get('REPORT_UNVERIFIABLE') ?? 0).toBeGreaterThan(500);
    expect(codes.get('PAYLOAD_TOO_LARGE') ?? 0).toBeGreaterThan(0);
    // Nothing was stored for any mutant, and the original still verifies.
    expect(
      (await sealpost.moderation.reports.list('open', { limit: 100, now: sealpost.now() })).items,
    ).toHaveLength(reportsBefore);
    const again = await post(captured!);
    expect(again.status).toBe(200);
    expect(await again.json()).toEqual({ reportId: first.reportId, duplicate: true });
  }, 600_000);
});
