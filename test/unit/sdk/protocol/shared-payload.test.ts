/**
 * Shared payloads (docs/PROTOCOL.md §14.2): the known answers of test/vectors/shared-payload.json
 * on every crypto backend (node, WebCrypto, noble give the same bytes), round trips, every
 * malformed or tampered payload with its error, argument checks, and the generator reproducing
 * the file byte for byte.
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DecryptError, MalformedEnvelopeError, SealpostError } from '#sdk/errors.ts';
import {
  deriveSharedPayloadKeys,
  openSharedPayload,
  sealSharedPayload,
} from '#sdk/protocol/shared-payload.ts';
import { ArgumentRangeError, ArgumentTypeError } from '#sdk/util/argument-errors.ts';
import { concatBytes, fromHex, toHex } from '#sdk/util/bytes.ts';
import { padmeLength } from '#sdk/util/padding.ts';
import { LABELS } from '#sdk/wire/labels.ts';
import {
  decodePayloadReference,
  MAX_SHARED_PAYLOAD_BYTES,
  MAX_SHARED_PAYLOAD_CONTENT_BYTES,
} from '#sdk/wire/multi-recipient-payload.ts';
import { sharedPayloadVectorsJson } from '../../../../scripts/gen-vectors-shared-payload.ts';
import { seededRng } from '../../../../scripts/lib/seeded-rng.ts';
import { backends as allBackends } from '../crypto/helpers.ts';

const backends = allBackends.filter((b) => ['node', 'webcrypto', 'noble'].includes(b.name));

interface PayloadCase {
  name: string;
  key: string;
  contentSize: number;
  content?: string;
  contentSeed?: string;
  contentSha256: string;
  encKey: string;
  keyCommitment: string;
  bodySize: number;
  payloadSize: number;
  payload?: string;
  tag: string;
  digest: string;
  reference: string;
}

interface InvalidPayload {
  name: string;
  key: string;
  digest: string;
  payload: string;
  code: string;
}

const text = readFileSync(new URL('../../../vectors/shared-payload.json', import.meta.url), 'utf8');
const vectors = JSON.parse(text) as {
  label: string;
  payloads: PayloadCase[];
  invalidPayloads: InvalidPayload[];
};

/** The content of a case: written in full, or rebuilt from its recorded stream seed. */
function contentOf(c: PayloadCase): Uint8Array {
  if (c.content !== undefined) return fromHex(c.content);
  if (c.contentSeed === undefined) throw new Error(`no content for ${c.name}`);
  return seededRng(c.contentSeed)(c.contentSize);
}

const fixedRng = (key: Uint8Array) => (n: number) => {
  expect(n).toBe(32);
  return key.slice();
};

function codeOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (e instanceof SealpostError) return e.code;
    throw e;
  }
  return 'none';
}

describe('shared payload vectors', () => {
  it('name the label of PROTOCOL.md §14.2', () => {
    expect(toHex(LABELS.SHARED_PAYLOAD)).toBe(vectors.label);
    expect(new TextDecoder().decode(LABELS.SHARED_PAYLOAD)).toBe('Sealpost-SharedPayload-v1');
  });

  it('are reproduced byte for byte by scripts/gen-vectors-shared-payload.ts', async () => {
    expect(await sharedPayloadVectorsJson()).toBe(text);
  });

  it('cover the empty, small, Padmé-step and largest contents', () => {
    expect(vectors.payloads.map((c) => c.contentSize)).toEqual([0, 1, 60, 1024, 1533, 98_304]);
    const largest = vectors.payloads.at(-1)!;
    expect(largest.payloadSize).toBe(100_401);
    expect(largest.payloadSize).toBeLessThanOrEqual(MAX_SHARED_PAYLOAD_BYTES);
  });

  for (const backend of backends) {
    describe(backend.name, () => {
      it('seal every content to the recorded bytes and open them again', () => {
        for (const c of vectors.payloads) {
          const key = fromHex(c.key);
          const keys = deriveSharedPayloadKeys(backend, key);
          expect(toHex(keys.encKey), c.name).toBe(c.encKey);
          expect(toHex(keys.keyCommitment), c.name).toBe(c.keyCommitment);
          expect(padmeLength(4 + c.contentSize), c.name).toBe(c.bodySize);
          const content = contentOf(c);
          expect(toHex(backend.sha256(content))).toBe(c.contentSha256);
          const sealed = sealSharedPayload(backend, fixedRng(key), content);
          expect(sealed.payload.length, c.name).toBe(c.payloadSize);
          if (c.payload !== undefined) expect(toHex(sealed.payload), c.name).toBe(c.payload);
          expect(toHex(sealed.payload.subarray(-16)), c.name).toBe(c.tag);
          expect(toHex(sealed.reference.digest), c.name).toBe(c.digest);
          expect(toHex(sealed.reference.key), c.name).toBe(c.key);
          const reference = decodePayloadReference(fromHex(c.reference));
          expect(toHex(reference.key)).toBe(c.key);
          expect(toHex(reference.digest)).toBe(c.digest);
          expect(openSharedPayload(backend, sealed.payload, reference), c.name).toEqual(content);
        }
      });

      it('refuse every invalid payload with its code', () => {
        for (const c of vectors.invalidPayloads) {
          const code = codeOf(() =>
            openSharedPayload(backend, fromHex(c.payload), {
              key: fromHex(c.key),
              digest: fromHex(c.digest),
            }),
          );
          expect(code, c.name).toBe(c.code);
        }
      });
    });
  }

  it('give the same payload on every backend for the same key and content', () => {
    const key = fromHex(vectors.payloads[3]!.key);
    const content = new Uint8Array(5000).map((_, i) => i * 7);
    const [first, ...rest] = backends.map(
      (b) => sealSharedPayload(b, fixedRng(key), content).payload,
    );
    for (const other of rest) expect(other).toEqual(first);
  });
});

describe('sealSharedPayload and openSharedPayload', () => {
  const backend = backends[0]!;

  it('round-trip any content up to the limit, on every backend pair', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 3000 }),
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        (content, key) => {
          const sealed = sealSharedPayload(backend, fixedRng(key), content);
          expect(sealed.payload.length).toBe(33 + padmeLength(4 + content.length) + 16);
          for (const b of backends)
            expect(openSharedPayload(b, sealed.payload, sealed.reference)).toEqual(content);
        },
      ),
      { numRuns: 50 },
    );
  });

  it('draw a fresh key per payload: the same content gives unrelated payloads', () => {
    const content = new TextEncoder().encode('hello');
    const a = sealSharedPayload(backend, (n) => crypto.getRandomValues(new Uint8Array(n)), content);
    const b = sealSharedPayload(backend, (n) => crypto.getRandomValues(new Uint8Array(n)), content);
    expect(a.payload).not.toEqual(b.payload);
    expect(a.reference.digest).not.toEqual(b.reference.digest);
  });

  it('seal the largest content and refuse one byte more before drawing a key', () => {
    const max = new Uint8Array(MAX_SHARED_PAYLOAD_CONTENT_BYTES);
    const sealed = sealSharedPayload(backend, fixedRng(new Uint8Array(32).fill(1)), max);
    expect(sealed.payload.length).toBe(100_401);
    let drawn = 0;
    const counting = (n: number) => {
      drawn += n;
      return new Uint8Array(n);
    };
    expect(() =>
      sealSharedPayload(backend, counting, new Uint8Array(MAX_SHARED_PAYLOAD_CONTENT_BYTES + 1)),
    ).toThrow(ArgumentRangeError);
    expect(drawn).toBe(0);
  });

  it('check their arguments', () => {
    const sealed = sealSharedPayload(backend, fixedRng(new Uint8Array(32)), new Uint8Array(3));
    expect(() => sealSharedPayload(backend, fixedRng(new Uint8Array(32)), 'x' as never)).toThrow(
      ArgumentTypeError,
    );
    expect(() => sealSharedPayload(backend, () => new Uint8Array(31), new Uint8Array(1))).toThrow(
      ArgumentRangeError,
    );
    expect(() => sealSharedPayload(backend, undefined as never, new Uint8Array(1))).toThrow(
      ArgumentTypeError,
    );
    expect(() => openSharedPayload(backend, sealed.payload, null as never)).toThrow(
      ArgumentTypeError,
    );
    expect(() =>
      openSharedPayload(backend, sealed.payload, { ...sealed.reference, key: new Uint8Array(16) }),
    ).toThrow(ArgumentRangeError);
    expect(() =>
      openSharedPayload(backend, sealed.payload, {
        ...sealed.reference,
        digest: new Uint8Array(31),
      }),
    ).toThrow(ArgumentRangeError);
    expect(() => deriveSharedPayloadKeys(backend, new Uint8Array(33))).toThrow(ArgumentRangeError);
  });

  it('refuse an oversized payload before any hashing', () => {
    const big = new Uint8Array(MAX_SHARED_PAYLOAD_BYTES + 1);
    big[0] = 1;
    let hashed = 0;
    const counting = {
      ...backend,
      sha256: (d: Uint8Array) => {
        hashed += 1;
        return backend.sha256(d);
      },
    };
    expect(() =>
      openSharedPayload(counting, big, { key: new Uint8Array(32), digest: new Uint8Array(32) }),
    ).toThrow(MalformedEnvelopeError);
    expect(hashed).toBe(0);
  });

  it('raise one uniform DecryptError, without a cause, for digest, key and tag failures', () => {
    const content = new Uint8Array(100).fill(3);
    const sealed = sealSharedPayload(backend, fixedRng(new Uint8Array(32).fill(9)), content);
    const flipped = sealed.payload.slice();
    flipped[60]! ^= 1;
    const failures = [
      () =>
        openSharedPayload(backend, sealed.payload, {
          ...sealed.reference,
          digest: new Uint8Array(32),
        }),
      () =>
        openSharedPayload(backend, sealed.payload, {
          ...sealed.reference,
          key: new Uint8Array(32),
        }),
      () =>
        openSharedPayload(backend, flipped, {
          ...sealed.reference,
          digest: backend.sha256(flipped),
        }),
    ];
    for (const f of failures) {
      let caught: unknown;
      try {
        f();
      } catch (e) {
        caught = e;
      }
      expect(caught).toBeInstanceOf(DecryptError);
      expect((caught as DecryptError).message).toBe(new DecryptError().message);
      expect((caught as DecryptError).cause).toBeUndefined();
    }
  });

  it('bind the header: the payload is the AEAD associated data', () => {
    // Sealed by hand with an empty AAD, the payload must not open.
    const key = new Uint8Array(32).fill(4);
    const { encKey, keyCommitment } = deriveSharedPayloadKeys(backend, key);
    const body = concatBytes(Uint8Array.of(0, 0, 0, 0));
    const payload = concatBytes(
      Uint8Array.of(1),
      keyCommitment,
      backend.aeadSeal(encKey, new Uint8Array(12), body, new Uint8Array(0)),
    );
    expect(() =>
      openSharedPayload(backend, payload, { key, digest: backend.sha256(payload) }),
    ).toThrow(DecryptError);
  });
});
