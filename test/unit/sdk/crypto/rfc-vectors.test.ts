/**
 * Known-answer tests from the RFCs that define each primitive, through every backend:
 * RFC 7748 §5.2 and §6.1 (X25519), RFC 8032 §7.1 (Ed25519), RFC 5869 Appendix A (HKDF),
 * RFC 8439 §2.8.2 (ChaCha20-Poly1305), RFC 4231 §4.3 (HMAC) and FIPS 180-4 examples (SHA-2).
 */
import { describe, expect, it } from 'vitest';
import { nodeBackend } from '#sdk/crypto/node-backend.ts';
import { DecryptError } from '#sdk/errors.ts';
import { fromHex, toHex, utf8 } from '#sdk/util/bytes.ts';
import { backends } from './helpers.ts';

const range = (length: number, start: number) =>
  Uint8Array.from({ length }, (_, i) => (start + i) & 0xff);

describe.each(backends)('RFC vectors: $name', (backend) => {
  it('X25519 function vectors (RFC 7748 §5.2)', async () => {
    const cases = [
      [
        'a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4',
        'e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c',
        'c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552',
      ],
      [
        // The u-coordinate has its top bit set, which X25519 must mask (RFC 7748 §5).
        '4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d',
        'e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493',
        '95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957',
      ],
    ] as const;
    for (const [scalar, u, out] of cases) {
      expect(toHex(await backend.x25519(fromHex(scalar), fromHex(u)))).toBe(out);
    }
  });

  // The 1,000-step chain costs seconds on the slower backends; they are held byte-for-byte to
  // the node backend by cross-backend.test.ts, so one step suffices there.
  const steps = backend === nodeBackend ? 1000 : 1;
  it(`X25519 iterated ${steps} time(s) (RFC 7748 §5.2)`, async () => {
    let k = fromHex(`09${'00'.repeat(31)}`);
    let u = k;
    for (let i = 1; i <= steps; i++) {
      const next = await backend.x25519(k, u);
      u = k;
      k = next;
      if (i === 1)
        expect(toHex(k)).toBe('422c8e7a6227d7bca1350b3e2bb7279f7897b87bb6854b783c60e80311ae3079');
    }
    if (steps === 1000)
      expect(toHex(k)).toBe('684cf59ba83309552800ef566f2f4d3c1c3887c49360e3875f2eb94d99532c51');
  });

  it('X25519 Diffie-Hellman (RFC 7748 §6.1)', async () => {
    const alice = fromHex('77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a');
    const bob = fromHex('5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb');
    const alicePublic = await backend.x25519PublicKey(alice);
    const bobPublic = await backend.x25519PublicKey(bob);
    expect(toHex(alicePublic)).toBe(
      '8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a',
    );
    expect(toHex(bobPublic)).toBe(
      'de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f',
    );
    const shared = '4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742';
    expect(toHex(await backend.x25519(alice, bobPublic))).toBe(shared);
    expect(toHex(await backend.x25519(bob, alicePublic))).toBe(shared);
  });

  it.each([
    [
      'TEST 1',
      '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60',
      'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a',
      '',
      'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b',
    ],
    [
      'TEST 2',
      '4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb',
      '3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c',
      '72',
      '92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00',
    ],
    [
      'TEST 3',
      'c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7',
      'fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025',
      'af82',
      '6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a',
    ],
  ])('Ed25519 %s (RFC 8032 §7.1)', async (_name, seed, publicKey, message, signature) => {
    const msg = fromHex(message);
    expect(toHex(await backend.ed25519PublicKey(fromHex(seed)))).toBe(publicKey);
    expect(toHex(await backend.ed25519Sign(fromHex(seed), msg))).toBe(signature);
    expect(await backend.ed25519Verify(fromHex(publicKey), msg, fromHex(signature))).toBe(true);
    const forged = fromHex(signature);
    forged[63]! ^= 0x01;
    expect(await backend.ed25519Verify(fromHex(publicKey), msg, forged)).toBe(false);
    const otherMessage = new Uint8Array([...msg, 0]);
    expect(await backend.ed25519Verify(fromHex(publicKey), otherMessage, fromHex(signature))).toBe(
      false,
    );
  });

  it('HKDF-SHA-256 test cases 1-3 (RFC 5869 Appendix A)', () => {
    const ikm22 = new Uint8Array(22).fill(0x0b);
    expect(toHex(backend.hkdfSha256(ikm22, range(13, 0x00), range(10, 0xf0), 42))).toBe(
      '3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865',
    );
    expect(toHex(backend.hkdfSha256(range(80, 0x00), range(80, 0x60), range(80, 0xb0), 82))).toBe(
      'b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c59045a99cac7827271cb41c65e590e09da3275600c2f09b8367793a9aca3db71cc30c58179ec3e87c14c01d5c1f3434f1d87',
    );
    expect(toHex(backend.hkdfSha256(ikm22, new Uint8Array(0), new Uint8Array(0), 42))).toBe(
      '8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8',
    );
  });

  it('ChaCha20-Poly1305 AEAD (RFC 8439 §2.8.2)', () => {
    const key = range(32, 0x80);
    const nonce = fromHex('070000004041424344454647');
    const aad = fromHex('50515253c0c1c2c3c4c5c6c7');
    const plaintext = utf8(
      "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.",
    );
    const sealed = backend.aeadSeal(key, nonce, plaintext, aad);
    expect(toHex(sealed)).toBe(
      'd31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d63dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b3692ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc3ff4def08e4b7a9de576d26586cec64b6116' +
        '1ae10b594f09e26a7e902ecbd0600691',
    );
    expect(backend.aeadOpen(key, nonce, sealed, aad)).toEqual(plaintext);
    expect(() => backend.aeadOpen(key, nonce, sealed, aad.subarray(1))).toThrow(DecryptError);
  });

  it('HMAC-SHA-256 (RFC 4231 §4.3) and SHA-256/512 of "abc" (FIPS 180-4 examples)', () => {
    expect(toHex(backend.hmacSha256(utf8('Jefe'), utf8('what do ya want for nothing?')))).toBe(
      '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843',
    );
    expect(toHex(backend.sha256(utf8('abc')))).toBe(
      'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    );
    expect(toHex(backend.sha512(utf8('abc')))).toBe(
      'ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f',
    );
  });
});
