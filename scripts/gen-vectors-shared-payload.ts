/**
 * Generates test/vectors/shared-payload.json: known answers for the shared payload, the payload
 * reference and the multi-recipient request (docs/PROTOCOL.md §14.9). Keys, contents and
 * headers come from a fixed seeded stream, so rerunning the script reproduces the file byte for
 * byte (a test regenerates it in memory and compares).
 *
 * Every payload is produced by the SDK and, independently, from PROTOCOL.md §14.2 with bare
 * primitives; every request by the SDK's encoder and by concatenating the fields of §14.4. The
 * script refuses to write vectors if the two disagree.
 *
 * Run: `npx tsx --conditions=sealpost-source scripts/gen-vectors-shared-payload.ts`
 */
import { writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type CryptoBackend, nobleBackend } from '#sdk/crypto/index.ts';
import { SealpostError } from '#sdk/errors.ts';
import {
  deriveSharedPayloadKeys,
  openSharedPayload,
  sealSharedPayload,
} from '#sdk/protocol/shared-payload.ts';
import { concatBytes, equalBytes, toHex, u32be } from '#sdk/util/bytes.ts';
import { padmeLength } from '#sdk/util/padding.ts';
import { addressFromBytes, addressToBytes } from '#sdk/wire/identity.ts';
import { LABELS } from '#sdk/wire/labels.ts';
import {
  decodeMultiRecipientRequest,
  encodeMultiRecipientRequest,
  type MultiRecipientAccount,
} from '#sdk/wire/multi-recipient.ts';
import { encodePayloadReference } from '#sdk/wire/multi-recipient-payload.ts';
import { seededRng } from './lib/seeded-rng.ts';

const backend: CryptoBackend = nobleBackend;
const SEED = 'Sealpost shared-payload vectors v1';
/** Payloads and contents up to this size are written in full. */
const FULL_BYTES = 4096;

const u16be = (n: number) => Uint8Array.of(n >>> 8, n & 0xff);

/** PROTOCOL.md §14.2 with bare primitives, independent of sdk/protocol/shared-payload.ts. */
function sealBySpec(key: Uint8Array, content: Uint8Array, bodyOverride?: Uint8Array) {
  const okm = backend.hkdfSha256(key, new Uint8Array(32), LABELS.SHARED_PAYLOAD, 64);
  const encKey = okm.slice(0, 32);
  const keyCommitment = okm.slice(32);
  const header = concatBytes(Uint8Array.of(1), keyCommitment);
  const padded = padmeLength(4 + content.length);
  const body =
    bodyOverride ??
    concatBytes(u32be(content.length), content, new Uint8Array(padded - 4 - content.length));
  const payload = concatBytes(header, backend.aeadSeal(encKey, new Uint8Array(12), body, header));
  return { encKey, keyCommitment, body, payload, digest: backend.sha256(payload) };
}

/** The SDK's seal with the given key (its rng hands out exactly that key). */
function sealBySdk(key: Uint8Array, content: Uint8Array) {
  return sealSharedPayload(backend, () => key.slice(), content);
}

function codeOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (e instanceof SealpostError) return e.code;
    throw e;
  }
  throw new Error('expected a failure');
}

/** Builds the vectors; throws if the SDK and the specification disagree anywhere. */
export async function sharedPayloadVectorsJson(): Promise<string> {
  const rng = seededRng(SEED);
  const payloads = [];
  const sizes: [string, number][] = [
    ['empty', 0],
    ['one byte', 1],
    ['short text', 60],
    ['1 KiB', 1024],
    ['Padmé step', 1533],
    ['largest', 98_304],
  ];
  let sample: { key: Uint8Array; content: Uint8Array; payload: Uint8Array } | undefined;
  for (const [name, size] of sizes) {
    const key = rng(32);
    // Contents written in full come from the main stream; a larger one from a stream of its
    // own, whose seed is recorded so that a reader can rebuild it.
    const contentSeed = `${SEED} content ${name}`;
    const content = size <= FULL_BYTES ? rng(size) : seededRng(contentSeed)(size);
    const spec = sealBySpec(key, content);
    const sdk = sealBySdk(key, content);
    if (!equalBytes(sdk.payload, spec.payload) || !equalBytes(sdk.reference.digest, spec.digest)) {
      throw new Error(`payload ${name}: the SDK and PROTOCOL.md §14.2 disagree`);
    }
    if (!equalBytes(openSharedPayload(backend, spec.payload, sdk.reference), content)) {
      throw new Error(`payload ${name}: does not open to its content`);
    }
    const keys = deriveSharedPayloadKeys(backend, key);
    if (!equalBytes(keys.encKey, spec.encKey)) throw new Error(`payload ${name}: encKey differs`);
    if (size === 1024) sample = { key, content, payload: spec.payload };
    payloads.push({
      name,
      key: toHex(key),
      contentSize: size,
      ...(size <= FULL_BYTES ? { content: toHex(content) } : { contentSeed }),
      contentSha256: toHex(backend.sha256(content)),
      encKey: toHex(spec.encKey),
      keyCommitment: toHex(spec.keyCommitment),
      bodySize: spec.body.length,
      payloadSize: spec.payload.length,
      ...(spec.payload.length <= FULL_BYTES ? { payload: toHex(spec.payload) } : {}),
      tag: toHex(spec.payload.subarray(spec.payload.length - 16)),
      digest: toHex(spec.digest),
      reference: toHex(encodePayloadReference({ key, digest: spec.digest })),
    });
  }
  if (sample === undefined) throw new Error('no sample payload');

  // Invalid payloads: each must fail openSharedPayload with the given code. Cases re-sealed with
  // a damaged body carry their own digest, so they reach the check they are about.
  const base = sample;
  const baseDigest = backend.sha256(base.payload);
  const invalidPayloads: {
    name: string;
    key: string;
    digest: string;
    payload: string;
    code: string;
  }[] = [];
  const addInvalid = (
    name: string,
    expected: string,
    key: Uint8Array,
    payload: Uint8Array,
    digest?: Uint8Array,
  ) => {
    const d = digest ?? backend.sha256(payload);
    const code = codeOf(() => openSharedPayload(backend, payload, { key, digest: d }));
    if (code !== expected) throw new Error(`invalid payload ${name}: ${code}, not ${expected}`);
    invalidPayloads.push({
      name,
      key: toHex(key),
      digest: toHex(d),
      payload: toHex(payload),
      code,
    });
  };
  const flip = (bytes: Uint8Array, at: number, bit = 1) => {
    const out = bytes.slice();
    out[at]! ^= bit;
    return out;
  };
  addInvalid('version 2', 'UNSUPPORTED_VERSION', base.key, flip(base.payload, 0, 3));
  addInvalid(
    'truncated below the minimum',
    'MALFORMED_ENVELOPE',
    base.key,
    base.payload.subarray(0, 52),
  );
  addInvalid('wrong digest', 'DECRYPT_FAILED', base.key, base.payload, flip(baseDigest, 0));
  addInvalid('wrong key', 'DECRYPT_FAILED', rng(32), base.payload, baseDigest);
  addInvalid('key commitment bit', 'DECRYPT_FAILED', base.key, flip(base.payload, 5));
  addInvalid('ciphertext bit', 'DECRYPT_FAILED', base.key, flip(base.payload, 40));
  addInvalid(
    'tag bit',
    'DECRYPT_FAILED',
    base.key,
    flip(base.payload, base.payload.length - 1, 0x80),
  );
  addInvalid(
    'truncated tag',
    'DECRYPT_FAILED',
    base.key,
    base.payload.subarray(0, base.payload.length - 1),
  );
  {
    // A payload sealed under K2 whose header names K1's commitment.
    const other = rng(32);
    const spec = sealBySpec(other, base.content);
    const swapped = concatBytes(
      Uint8Array.of(1),
      deriveSharedPayloadKeys(backend, base.key).keyCommitment,
      spec.payload.subarray(33),
    );
    addInvalid('commitment of another key', 'DECRYPT_FAILED', base.key, swapped);
  }
  {
    const good = sealBySpec(base.key, base.content).body;
    const padding = flip(good, good.length - 1);
    addInvalid(
      'non-zero padding',
      'MALFORMED_ENVELOPE',
      base.key,
      sealBySpec(base.key, base.content, padding).payload,
    );
    const longer = good.slice();
    longer.set(u32be(good.length - 3), 0);
    addInvalid(
      'length past the body',
      'MALFORMED_ENVELOPE',
      base.key,
      sealBySpec(base.key, base.content, longer).payload,
    );
    const unpadded = concatBytes(u32be(base.content.length), base.content);
    addInvalid(
      'not the Padmé length',
      'MALFORMED_ENVELOPE',
      base.key,
      sealBySpec(base.key, base.content, unpadded).payload,
    );
  }

  // A request for three accounts: an access key, a token and none. Headers are opaque to the
  // codec: a version byte 2 and seeded bytes, of a steady-state and a prekey-message size.
  const address = (n: number) => {
    const raw = rng(20);
    return { raw, text: addressFromBytes(raw), n };
  };
  const header = (size: number) => concatBytes(Uint8Array.of(2), rng(size - 1));
  const alice = address(1);
  const bob = address(2);
  const carol = address(3);
  const accessKey = rng(16);
  const token = rng(354);
  const requestId = rng(16);
  const accounts: MultiRecipientAccount[] = [
    {
      address: alice.text,
      auth: { kind: 'accessKey', accessKey },
      devices: [
        { deviceId: 1, registrationId: 0xdeadbeef, header: header(993) },
        { deviceId: 3, registrationId: 7, header: header(2841) },
      ],
    },
    {
      address: bob.text,
      auth: { kind: 'token', token },
      devices: [{ deviceId: 2, registrationId: 0, header: header(568) }],
    },
    {
      address: carol.text,
      auth: { kind: 'none' },
      devices: [{ deviceId: 6, registrationId: 0xffffffff, header: header(4096) }],
    },
  ];
  const request = { requestId, accounts, payload: base.payload };
  const encoded = encodeMultiRecipientRequest(request);
  const bySpec = concatBytes(
    Uint8Array.of(1),
    requestId,
    u16be(3),
    ...accounts.flatMap((a) => [
      addressToBytes(a.address),
      a.auth.kind === 'accessKey'
        ? concatBytes(Uint8Array.of(1), a.auth.accessKey)
        : a.auth.kind === 'token'
          ? concatBytes(Uint8Array.of(2), a.auth.token)
          : Uint8Array.of(0),
      Uint8Array.of(a.devices.length),
      ...a.devices.map((d) =>
        concatBytes(u32be(d.deviceId), u32be(d.registrationId), u16be(d.header.length), d.header),
      ),
    ]),
    u32be(base.payload.length),
    base.payload,
  );
  if (!equalBytes(encoded, bySpec))
    throw new Error('request: the SDK and PROTOCOL.md §14.4 disagree');
  decodeMultiRecipientRequest(encoded);

  // Invalid requests, built by editing the valid one at known offsets (§14.4 layout).
  const countAt = 17;
  const firstAccount = 19;
  const aliceDevicesAt = firstAccount + 20 + 1 + 16;
  const aliceFirstDevice = aliceDevicesAt + 1;
  const aliceHeaderLengthAt = aliceFirstDevice + 8;
  // Stored as an edit of `request.encoded` where one fits, to keep the file small.
  const invalidRequests: Record<string, unknown>[] = [];
  const addRequest = (name: string, bytes: Uint8Array, expected = 'MALFORMED_ENVELOPE') => {
    const code = codeOf(() => decodeMultiRecipientRequest(bytes));
    if (code !== expected) throw new Error(`invalid request ${name}: ${code}, not ${expected}`);
    invalidRequests.push({ name, ...editOf(encoded, bytes), code });
  };
  const set = (at: number, value: Uint8Array) => {
    const out = encoded.slice();
    out.set(value, at);
    return out;
  };
  addRequest('version 2', set(0, Uint8Array.of(2)), 'UNSUPPORTED_VERSION');
  addRequest('no account', set(countAt, u16be(0)));
  addRequest('more accounts than listed', set(countAt, u16be(4)));
  addRequest('257 accounts', set(countAt, u16be(257)));
  addRequest('repeated account', set(firstAccount, bob.raw));
  addRequest('unknown authorization kind', set(firstAccount + 20, Uint8Array.of(3)));
  addRequest('no device', set(aliceDevicesAt, Uint8Array.of(0)));
  addRequest('13 devices', set(aliceDevicesAt, Uint8Array.of(13)));
  addRequest('device id 0', set(aliceFirstDevice, u32be(0)));
  addRequest('repeated device', set(aliceFirstDevice, u32be(3)));
  addRequest('header of version 1', set(aliceHeaderLengthAt + 2, Uint8Array.of(1)));
  addRequest('header over 4,096 bytes', set(aliceHeaderLengthAt, u16be(4097)));
  addRequest('trailing byte', concatBytes(encoded, Uint8Array.of(0)));
  addRequest('truncated', encoded.subarray(0, encoded.length - 1));
  addRequest(
    'payload of version 2',
    set(encoded.length - base.payload.length, Uint8Array.of(2)),
    'UNSUPPORTED_VERSION',
  );
  {
    // A header under 568 bytes: re-encode bob's 568-byte header as 567 bytes by hand.
    const shortBob = concatBytes(
      encoded.subarray(0, countAt),
      u16be(1),
      bob.raw,
      Uint8Array.of(2),
      token,
      Uint8Array.of(1),
      u32be(2),
      u32be(0),
      u16be(567),
      header(567),
      u32be(base.payload.length),
      base.payload,
    );
    addRequest('header under 568 bytes', shortBob);
  }

  const vectors = {
    description:
      'Shared payloads, payload references and multi-recipient requests (docs/PROTOCOL.md §14). Generated by scripts/gen-vectors-shared-payload.ts.',
    seed: SEED,
    label: toHex(LABELS.SHARED_PAYLOAD),
    payloads,
    invalidPayloads,
    invalidReferences: [
      { name: 'another tag', reference: toHex(concatBytes(Uint8Array.of(1), rng(64))) },
      { name: '64 bytes', reference: toHex(concatBytes(Uint8Array.of(0xa1), rng(63))) },
      { name: '66 bytes', reference: toHex(concatBytes(Uint8Array.of(0xa1), rng(65))) },
      { name: 'empty', reference: '' },
    ],
    request: {
      requestId: toHex(requestId),
      accounts: accounts.map((a) => ({
        address: a.address,
        auth:
          a.auth.kind === 'accessKey'
            ? { kind: 'accessKey', accessKey: toHex(a.auth.accessKey) }
            : a.auth.kind === 'token'
              ? { kind: 'token', token: toHex(a.auth.token) }
              : { kind: 'none' },
        devices: a.devices.map((d) => ({
          deviceId: d.deviceId,
          registrationId: d.registrationId,
          header: toHex(d.header),
        })),
      })),
      payload: 'payloads["1 KiB"].payload',
      encoded: toHex(encoded),
    },
    invalidRequests,
  };
  return `${JSON.stringify(vectors, null, 2)}\n`;
}

/**
 * `bytes` as an edit of `base`: `{ offset, replace }` (same length), `{ truncate }` (a prefix),
 * `{ append }` (an extension), else `{ request }` in full.
 */
function editOf(base: Uint8Array, bytes: Uint8Array): Record<string, unknown> {
  if (bytes.length === base.length) {
    let first = 0;
    while (first < bytes.length && bytes[first] === base[first]) first++;
    let last = bytes.length - 1;
    while (last > first && bytes[last] === base[last]) last--;
    return { offset: first, replace: toHex(bytes.subarray(first, last + 1)) };
  }
  if (bytes.length < base.length && equalBytes(bytes, base.subarray(0, bytes.length))) {
    return { truncate: bytes.length };
  }
  if (bytes.length > base.length && equalBytes(bytes.subarray(0, base.length), base)) {
    return { append: toHex(bytes.subarray(base.length)) };
  }
  return { request: toHex(bytes) };
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const out = join(
    dirname(fileURLToPath(import.meta.url)),
    '..',
    'test',
    'vectors',
    'shared-payload.json',
  );
  writeFileSync(out, await sharedPayloadVectorsJson());
  console.log(`wrote ${out}`);
}
