import { chacha20poly1305 } from '@noble/ciphers/chacha.js';
import { x25519 } from '@noble/curves/ed25519.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { describe, expect, it } from 'vitest';
import type { CryptoBackend, Rng } from '#sdk/crypto/backend.ts';
import { defaultBackend } from '#sdk/crypto/index.ts';
import {
  DecryptError,
  DuplicateMessageError,
  MalformedEnvelopeError,
  NoSessionError,
  TooManySkippedError,
  UnsupportedVersionError,
} from '#sdk/errors.ts';
import {
  initAlice,
  initBob,
  MAX_SKIP,
  type RatchetState,
  ratchetDecrypt,
  ratchetEncrypt,
  wipeRatchetState,
} from '#sdk/protocol/ratchet.ts';
import { nextChainKey } from '#sdk/protocol/ratchet-kdf.ts';
import { ArgumentRangeError } from '#sdk/util/argument-errors.ts';
import { concatBytes } from '#sdk/util/bytes.ts';
import { MAX_PLAINTEXT_BYTES } from '#sdk/wire/messages.ts';
import { seededRng } from '../../../../scripts/lib/seeded-rng.ts';

const backend = defaultBackend;
const text = (s: string) => new TextEncoder().encode(s);
const read = (b: Uint8Array) => new TextDecoder().decode(b);
const u32 = (n: number) => Uint8Array.of(n >>> 24, n >>> 16, n >>> 8, n);

/** A queue of fixed outputs, so the test knows every private key the ratchet draws. */
function scriptedRng(outputs: Uint8Array[]): Rng {
  return (length) => {
    const next = outputs.shift();
    if (!next || next.length !== length) throw new Error('unexpected rng call');
    return next.slice();
  };
}

async function setup(seed: number, b: CryptoBackend = backend) {
  const rng = seededRng(`session ${seed}`);
  const sk = rng(32);
  const ad = rng(320);
  const spkPrivate = rng(32);
  const spkPublic = await b.x25519PublicKey(spkPrivate);
  const alice = await initAlice(b, rng, sk, ad, spkPublic);
  const bob = initBob(sk, ad, { privateKey: spkPrivate, publicKey: spkPublic });
  return { rng, alice, bob };
}

/** Both parties as mutable holders, for conversations. */
async function conversation(seed: number) {
  const { rng, alice, bob } = await setup(seed);
  const s = { alice, bob };
  const send = (from: 'alice' | 'bob', message: string) => {
    const r = ratchetEncrypt(backend, s[from], text(message));
    s[from] = r.state;
    return r.message;
  };
  const receive = async (to: 'alice' | 'bob', bytes: Uint8Array) => {
    const r = await ratchetDecrypt(backend, rng, s[to], bytes);
    s[to] = r.state;
    return read(r.plaintext);
  };
  return { s, send, receive, rng };
}

/** The sender state `n` messages further along its chain, without encrypting them. */
function skipAhead(state: RatchetState, n: number): RatchetState {
  let key = state.senderChain!.key;
  for (let i = 0; i < n; i++) key = nextChainKey(backend, key);
  return { ...state, senderChain: { key, index: state.senderChain!.index + n } };
}

describe('Double Ratchet: PROTOCOL.md §5 computed independently', () => {
  it('matches KDF_RK, KDF_CK and the AEAD layout (mk as key, zero nonce)', async () => {
    const enc = new TextEncoder();
    const rootInfo = enc.encode('Sealpost-Ratchet-Root-v1');
    const sk = new Uint8Array(32).fill(7);
    const ad = new Uint8Array(320).fill(9);
    const spkPrivate = new Uint8Array(32).fill(3);
    const spkPublic = x25519.getPublicKey(spkPrivate);
    const alicePrivate = new Uint8Array(32).fill(5);
    const bobNext = new Uint8Array(32).fill(6);
    const alicePublic = x25519.getPublicKey(alicePrivate);
    const bobPublic = x25519.getPublicKey(bobNext);
    const kdfRk = (rk: Uint8Array, dh: Uint8Array) => {
      const out = hkdf(sha256, dh, rk, rootInfo, 64);
      return [out.slice(0, 32), out.slice(32)] as const;
    };
    const seal = (ck: Uint8Array, header: Uint8Array, pt: Uint8Array) => {
      const mk = hmac(sha256, ck, Uint8Array.of(1));
      const aead = chacha20poly1305(mk, new Uint8Array(12), concatBytes(ad, header));
      return concatBytes(header, aead.encrypt(pt));
    };
    const [rk1, cks] = kdfRk(sk, x25519.getSharedSecret(alicePrivate, spkPublic));

    const alice0 = await initAlice(backend, scriptedRng([alicePrivate]), sk, ad, spkPublic);
    const m0 = ratchetEncrypt(backend, alice0, text('first'));
    const m1 = ratchetEncrypt(backend, m0.state, text('second'));
    const header = (pub: Uint8Array, pn: number, n: number) =>
      concatBytes(Uint8Array.of(1), pub, u32(pn), u32(n));
    expect(m0.message).toEqual(seal(cks, header(alicePublic, 0, 0), text('first')));
    expect(m1.message).toEqual(
      seal(hmac(sha256, cks, Uint8Array.of(2)), header(alicePublic, 0, 1), text('second')),
    );

    // Bob's DH ratchet step (DR spec §3.5) and his reply on the new sending chain.
    const bob0 = initBob(sk, ad, { privateKey: spkPrivate, publicKey: spkPublic });
    const opened = await ratchetDecrypt(backend, scriptedRng([bobNext]), bob0, m1.message);
    expect(read(opened.plaintext)).toBe('second');
    const [rk2] = kdfRk(sk, x25519.getSharedSecret(spkPrivate, alicePublic));
    const [, bobChain] = kdfRk(rk2, x25519.getSharedSecret(bobNext, alicePublic));
    expect(rk1).toEqual(rk2);
    const reply = ratchetEncrypt(backend, opened.state, text('reply'));
    expect(reply.message).toEqual(seal(bobChain, header(bobPublic, 0, 0), text('reply')));
  });
});

describe('Double Ratchet: delivery', () => {
  it('round-trips through several DH ratchet turns with out-of-order messages', async () => {
    const { send, receive, s } = await conversation(1);
    const a = [send('alice', 'a0'), send('alice', 'a1'), send('alice', 'a2')];
    expect(await receive('bob', a[2]!)).toBe('a2');
    expect(await receive('bob', a[0]!)).toBe('a0');
    const b = [send('bob', 'b0'), send('bob', 'b1')];
    expect(await receive('alice', b[1]!)).toBe('b1');
    const a3 = send('alice', 'a3');
    // PN of Alice's new chain is the length of her first one.
    expect(a3.subarray(33, 37)).toEqual(u32(3));
    expect(await receive('bob', a3)).toBe('a3');
    // Late messages of older chains still open (kept receiving chains and skipped keys).
    expect(await receive('bob', a[1]!)).toBe('a1');
    expect(await receive('alice', b[0]!)).toBe('b0');
    expect(s.bob.skippedKeys).toHaveLength(0);
    expect(s.alice.receiverChains).toHaveLength(1);
  });

  it('never mutates the state it is given, on success or failure', async () => {
    const { alice, bob, rng } = await setup(2);
    const aliceCopy = structuredClone(alice);
    const bobCopy = structuredClone(bob);
    const m = ratchetEncrypt(backend, alice, text('x'));
    const bad = m.message.slice();
    bad[50]! ^= 1;
    await expect(ratchetDecrypt(backend, rng, bob, bad)).rejects.toBeInstanceOf(DecryptError);
    const ok = await ratchetDecrypt(backend, rng, bob, m.message);
    expect(alice).toEqual(aliceCopy);
    expect(bob).toEqual(bobCopy);
    expect(ok.state).not.toEqual(bob);
  });

  it('rejects a counter already used as a duplicate, including a used skipped key', async () => {
    const { send, receive } = await conversation(3);
    const m0 = send('alice', 'm0');
    const m1 = send('alice', 'm1');
    expect(await receive('bob', m1)).toBe('m1');
    await expect(receive('bob', m1)).rejects.toBeInstanceOf(DuplicateMessageError);
    expect(await receive('bob', m0)).toBe('m0');
    await expect(receive('bob', m0)).rejects.toBeInstanceOf(DuplicateMessageError);
  });

  it('keeps skipped keys after their receiving chain is dropped', async () => {
    const { send, receive } = await conversation(4);
    const lateByTurn: Uint8Array[] = [];
    for (let turn = 0; turn < 6; turn++) {
      lateByTurn.push(send('alice', `late-${turn}`));
      expect(await receive('bob', send('alice', `on-time-${turn}`))).toBe(`on-time-${turn}`);
      expect(await receive('alice', send('bob', `reply-${turn}`))).toBe(`reply-${turn}`);
    }
    // The late messages are counter 0 of each chain, received after counter 1: their keys
    // were stored as skipped keys and survive the chain being dropped.
    expect(await receive('bob', lateByTurn[0]!)).toBe('late-0');
    expect(await receive('bob', lateByTurn[5]!)).toBe('late-5');
  });

  it('derives a late key from a kept chain, but not from a dropped one', async () => {
    const { send, receive } = await conversation(5);
    const held: Uint8Array[] = [];
    for (let turn = 0; turn < 6; turn++) {
      const first = send('alice', `first-${turn}`);
      held.push(send('alice', `held-${turn}`));
      expect(await receive('bob', first)).toBe(`first-${turn}`);
      expect(await receive('alice', send('bob', `reply-${turn}`))).toBe(`reply-${turn}`);
    }
    // Bob holds chains 1..5 of Alice; chain 0 was dropped with its chain key.
    expect(await receive('bob', held[1]!)).toBe('held-1');
    expect(await receive('bob', held[5]!)).toBe('held-5');
    await expect(receive('bob', held[0]!)).rejects.toBeInstanceOf(DecryptError);
  });
});

describe('Double Ratchet: limits', () => {
  it(`accepts a jump of exactly ${MAX_SKIP} and refuses one more, on new and known chains`, async () => {
    const { alice, bob, rng } = await setup(6);
    const far = ratchetEncrypt(backend, skipAhead(alice, MAX_SKIP + 1), text('too far'));
    await expect(ratchetDecrypt(backend, rng, bob, far.message)).rejects.toBeInstanceOf(
      TooManySkippedError,
    );
    const edge = ratchetEncrypt(backend, skipAhead(alice, MAX_SKIP), text('edge'));
    const opened = await ratchetDecrypt(backend, rng, bob, edge.message);
    expect(read(opened.plaintext)).toBe('edge');
    // PROTOCOL.md §5: at most 2,000 skipped keys stored, the oldest evicted.
    expect(opened.state.skippedKeys).toHaveLength(2000);
    expect(opened.state.skippedKeys[0]!.counter).toBe(MAX_SKIP - 2000);
    const next = ratchetEncrypt(backend, skipAhead(edge.state, MAX_SKIP + 1), text('again'));
    await expect(ratchetDecrypt(backend, rng, opened.state, next.message)).rejects.toBeInstanceOf(
      TooManySkippedError,
    );
  });

  it('evicts the oldest skipped keys beyond 2,000; an evicted counter reads as a duplicate', async () => {
    const { alice, bob, rng } = await setup(7);
    let sender = alice;
    const messages: Uint8Array[] = [];
    for (let i = 0; i <= 2500; i++) {
      const r = ratchetEncrypt(backend, sender, text(`m${i}`));
      sender = r.state;
      messages.push(r.message);
    }
    const last = await ratchetDecrypt(backend, rng, bob, messages[2500]!);
    expect(last.state.skippedKeys).toHaveLength(2000);
    const kept = await ratchetDecrypt(backend, rng, last.state, messages[500]!);
    expect(read(kept.plaintext)).toBe('m500');
    expect(kept.state.skippedKeys).toHaveLength(1999);
    await expect(ratchetDecrypt(backend, rng, last.state, messages[499]!)).rejects.toBeInstanceOf(
      DuplicateMessageError,
    );
  });

  it('bounds plaintexts at 96 KiB and refuses to send before receiving', async () => {
    const { alice, bob, rng } = await setup(8);
    const big = ratchetEncrypt(backend, alice, new Uint8Array(MAX_PLAINTEXT_BYTES).fill(1));
    expect(big.message).toHaveLength(41 + MAX_PLAINTEXT_BYTES + 16);
    expect((await ratchetDecrypt(backend, rng, bob, big.message)).plaintext).toHaveLength(
      MAX_PLAINTEXT_BYTES,
    );
    expect(() => ratchetEncrypt(backend, alice, new Uint8Array(MAX_PLAINTEXT_BYTES + 1))).toThrow(
      ArgumentRangeError,
    );
    expect(() => ratchetEncrypt(backend, bob, text('x'))).toThrow(NoSessionError);
    const oversized = concatBytes(big.message, new Uint8Array(1));
    await expect(ratchetDecrypt(backend, rng, bob, oversized)).rejects.toBeInstanceOf(
      MalformedEnvelopeError,
    );
  });
});

describe('Double Ratchet: tampering', () => {
  it('rejects every single-byte change; the session keeps working afterwards', async () => {
    const { send, receive, s, rng } = await conversation(9);
    expect(await receive('bob', send('alice', 'warm-up'))).toBe('warm-up');
    const m = send('alice', 'tamper me');
    for (let i = 0; i < m.length; i++) {
      const bad = m.slice();
      bad[i]! ^= 0x01;
      const error = await ratchetDecrypt(backend, rng, s.bob, bad).catch((e: unknown) => e);
      if (i === 0) expect(error).toBeInstanceOf(UnsupportedVersionError);
      else if (i >= 37 && i < 41) {
        // N: a lower counter is a duplicate, a far higher one is refused, a near one fails to open.
        expect(
          error instanceof DecryptError ||
            error instanceof DuplicateMessageError ||
            error instanceof TooManySkippedError,
        ).toBe(true);
      } else expect(error).toBeInstanceOf(DecryptError);
    }
    const high = m.slice();
    high[37] = 0xff;
    await expect(ratchetDecrypt(backend, rng, s.bob, high)).rejects.toBeInstanceOf(
      TooManySkippedError,
    );
    for (const cut of [0, 1, 40, 56]) {
      await expect(ratchetDecrypt(backend, rng, s.bob, m.subarray(0, cut))).rejects.toBeInstanceOf(
        MalformedEnvelopeError,
      );
    }
    expect(await receive('bob', m)).toBe('tamper me');
    expect(await receive('alice', send('bob', 'still fine'))).toBe('still fine');
  });

  it('treats a low-order ratchet key as an undecryptable message', async () => {
    const { alice, bob, rng } = await setup(10);
    const m = ratchetEncrypt(backend, alice, text('x')).message.slice();
    m.fill(0, 1, 33);
    await expect(ratchetDecrypt(backend, rng, bob, m)).rejects.toBeInstanceOf(DecryptError);
  });

  it('wipes every secret of a state', async () => {
    const { send, receive, s } = await conversation(11);
    send('alice', 'skipped');
    await receive('bob', send('alice', 'x'));
    const state = s.bob;
    wipeRatchetState(state);
    const zero = new Uint8Array(32);
    expect(state.rootKey).toEqual(zero);
    expect(state.senderRatchetPrivate).toEqual(zero);
    expect(state.senderChain!.key).toEqual(zero);
    expect(state.receiverChains[0]!.key).toEqual(zero);
    expect(state.skippedKeys[0]!.seed).toEqual(zero);
  });
});
