/**
 * Test clients for the service: accounts and devices with real Ed25519 keys, request signing
 * exactly as docs/SERVICE.md specifies, and an app over in-memory adapters.
 */

import { createHash } from 'node:crypto';
import {
  createMemoryPorts,
  type MemoryPorts,
  memoryTokenPorts,
} from '#functions/adapters/memory-ports.ts';
import { buildApp } from '#functions/api/app.ts';
import { createServices, type Ports, type WakeupOptions } from '#functions/api/compose.ts';
import type { AppServices } from '#functions/api/env.ts';
import type { AttachmentPorts } from '#functions/domain/attachment-ports.ts';
import { DEFAULT_CONFIG, type ServiceConfig } from '#functions/domain/config.ts';
import { ed25519PublicKey, ed25519Sign, randomBytes, sha256 } from '#functions/domain/crypto.ts';
import type { SigningMaterial } from '#functions/domain/ports.ts';
import {
  generateSigningMaterial,
  StaticSigningKeyProvider,
} from '#functions/domain/signing-material.ts';
import type { TokenPorts } from '#functions/domain/token-ports.ts';
import { generateFrankingKeyPair } from '#sdk/franking/index.ts';
import { toBase64Url } from '#sdk/wire/api/codec.ts';
import type { ApiErrorBody } from '#sdk/wire/api/errors.ts';
import { createMessageId } from '#sdk/wire/api/message-id.ts';
import type { OperationId, ResponseOf } from '#sdk/wire/api/route-types.ts';
import type {
  KemPrekeyJson,
  OneTimePrekeyJson,
  RegisterRequest,
  SendRequest,
  SignedPrekeyJson,
} from '#sdk/wire/api/schemas.ts';
import {
  ACCESS_KEY_HEADER,
  ACCOUNT_SIGNATURE_HEADER,
  AUTH_HEADERS,
  accountRequestPayload,
  registrationPayload,
  requestSignaturePayload,
} from '#sdk/wire/api/signing.ts';
import {
  addressFromDigest,
  addressPreimage,
  decodeIdentityBundle,
  deviceLinkPayload,
  encodeIdentityBundle,
} from '#sdk/wire/identity.ts';
import {
  KEM_KIND_LAST_RESORT,
  KEM_KIND_ONE_TIME,
  kemPrekeyPayload,
  signedPrekeyPayload,
} from '#sdk/wire/prekeys.ts';
import { testWakeups } from './push-fixture.ts';

const encoder = new TextEncoder();

/** An account key and its address. */
export interface TestAccount {
  readonly seed: Uint8Array;
  readonly publicKey: Uint8Array;
  readonly address: string;
}

/** One device: keys, identity bundle, and (once registered) its id. */
export interface TestDevice {
  readonly account: TestAccount;
  readonly signingSeed: Uint8Array;
  readonly signingPublic: Uint8Array;
  readonly dhPublic: Uint8Array;
  readonly identity: Uint8Array;
  /** The device's franking key pair (PROTOCOL.md §11.1); random here, not derived. */
  readonly franking: { readonly secretKey: Uint8Array; readonly publicKey: Uint8Array };
  deviceId: number;
}

export function newAccount(): TestAccount {
  const seed = randomBytes(32);
  const publicKey = ed25519PublicKey(seed);
  return { seed, publicKey, address: addressFromDigest(sha256(addressPreimage(publicKey))) };
}

export function newDevice(account: TestAccount, linkedDeviceId = 1): TestDevice {
  const signingSeed = randomBytes(32);
  const signingPublic = ed25519PublicKey(signingSeed);
  const dhPublic = randomBytes(32);
  const link = { deviceId: linkedDeviceId, linkEpoch: 1 };
  const linkSignature = ed25519Sign(
    account.seed,
    deviceLinkPayload(signingPublic, dhPublic, link.deviceId, link.linkEpoch),
  );
  const identity = encodeIdentityBundle({
    accountPublic: account.publicKey,
    signingPublic,
    dhPublic,
    ...link,
    linkSignature,
  });
  const franking = generateFrankingKeyPair(randomBytes);
  return { account, signingSeed, signingPublic, dhPublic, identity, franking, deviceId: 0 };
}

export function signedPrekey(device: TestDevice, id: number): SignedPrekeyJson {
  const publicKey = randomBytes(32);
  const signature = ed25519Sign(device.signingSeed, signedPrekeyPayload(id, publicKey));
  return { id, publicKey: toBase64Url(publicKey), signature: toBase64Url(signature) };
}

export function oneTimePrekey(id: number): OneTimePrekeyJson {
  return { id, publicKey: toBase64Url(randomBytes(32)) };
}

export function kemPrekey(device: TestDevice, id: number, lastResort: boolean): KemPrekeyJson {
  const publicKey = randomBytes(1568);
  const kind = lastResort ? KEM_KIND_LAST_RESORT : KEM_KIND_ONE_TIME;
  const signature = ed25519Sign(device.signingSeed, kemPrekeyPayload(kind, id, publicKey));
  return { id, publicKey: toBase64Url(publicKey), signature: toBase64Url(signature) };
}

/** Trust root seed of {@link testMaterial}: fixed, so every test app has one audience. */
const TEST_ROOT_SEED = new Uint8Array(32).fill(42);

/** The audience (trust root public key) of apps built over {@link testMaterial}. */
export const TEST_AUDIENCE = ed25519PublicKey(TEST_ROOT_SEED);

/** Body of a registration (or, without accessKey/unrestricted, of adding a device). */
export function registrationBody(
  device: TestDevice,
  now: number,
  accessKey: Uint8Array = new Uint8Array(16).fill(7),
  audience: Uint8Array = TEST_AUDIENCE,
): RegisterRequest {
  const proof = ed25519Sign(
    device.account.seed,
    registrationPayload(device.account.address, device.identity, now, audience),
  );
  return {
    identity: toBase64Url(device.identity),
    timestamp: now,
    proof: toBase64Url(proof),
    accessKey: toBase64Url(accessKey),
    signedPrekey: signedPrekey(device, 1),
    lastResortKemPrekey: kemPrekey(device, 1, true),
    frankingKey: toBase64Url(device.franking.publicKey),
  };
}

/** Body of adding a device under the id its identity is linked as. */
export function addDeviceBody(device: TestDevice, now: number, audience?: Uint8Array) {
  const {
    accessKey: _a,
    unrestricted: _u,
    ...rest
  } = registrationBody(device, now, undefined, audience);
  return { deviceId: decodeIdentityBundle(device.identity).deviceId, ...rest };
}

/** The owner-signature headers of a request. */
export function signHeaders(
  device: TestDevice,
  method: string,
  pathAndQuery: string,
  body: Uint8Array,
  now: number,
  nonce: Uint8Array = randomBytes(16),
  audience: Uint8Array = TEST_AUDIENCE,
  accountSeed?: Uint8Array,
): Record<string, string> {
  const input = {
    audience,
    method,
    pathAndQuery,
    bodyHash: sha256(body),
    timestamp: now,
    nonce,
    address: device.account.address,
    deviceId: device.deviceId,
  };
  const headers: Record<string, string> = {
    [AUTH_HEADERS.address]: device.account.address,
    [AUTH_HEADERS.device]: String(device.deviceId),
    [AUTH_HEADERS.timestamp]: String(now),
    [AUTH_HEADERS.nonce]: toBase64Url(nonce),
    [AUTH_HEADERS.signature]: toBase64Url(
      ed25519Sign(device.signingSeed, requestSignaturePayload(input)),
    ),
  };
  if (accountSeed) {
    headers[ACCOUNT_SIGNATURE_HEADER] = toBase64Url(
      ed25519Sign(accountSeed, accountRequestPayload(input)),
    );
  }
  return headers;
}

export function newMessageId(now: number): string {
  return toBase64Url(createMessageId(now, randomBytes(10)));
}

export function sendBody(messageId: string, envelopes: [number, Uint8Array][]): SendRequest {
  return {
    messageId,
    envelopes: envelopes.map(([deviceId, e]) => ({ deviceId, envelope: toBase64Url(e) })),
  };
}

/** `A | B | C` to `A & B & C`. */
type Intersect<U> = (U extends unknown ? (u: U) => void : never) extends (i: infer I) => void
  ? I
  : never;

/**
 * What a test reads from a JSON response: every field of every response the route table
 * declares, and of the error body. A test asserts field by field on the one response it expects,
 * so a field that response lacks reads `undefined` and fails its assertion; a field no response
 * has does not compile.
 */
export type ResponseBody = Intersect<ResponseOf<OperationId>> & ApiErrorBody;

/** A parsed response; tests assert on its JSON body field by field. */
export interface CallResult {
  status: number;
  /** The JSON body read as one of the API's responses (see {@link ResponseBody}). */
  body: ResponseBody;
  /** The parsed JSON as it came (the text itself when it is not JSON), for other documents. */
  json: unknown;
  headers: Headers;
}

/** A request the app can answer (`app.request`). */
export interface Call {
  method: string;
  path: string;
  json?: unknown;
  rawBody?: Uint8Array | string;
  headers?: Record<string, string>;
  signer?: TestDevice;
  /** Also co-sign with this account seed (`x-sealpost-account-signature`). */
  accountSeed?: Uint8Array;
}

/**
 * Sends `c` to `app` in process: the JSON or raw body, the owner signature of `c.signer` (and
 * the account co-signature of `c.accountSeed`) at `now`, and the answer read as JSON when it is.
 */
export async function requestApp(
  app: { request(path: string, init: RequestInit): Response | Promise<Response> },
  c: Call,
  now: number,
): Promise<CallResult> {
  const headers: Record<string, string> = { ...c.headers };
  let body: Uint8Array | undefined;
  if (c.json !== undefined) {
    body = encoder.encode(JSON.stringify(c.json));
    headers['content-type'] ??= 'application/json';
  } else if (c.rawBody !== undefined) {
    body = typeof c.rawBody === 'string' ? encoder.encode(c.rawBody) : c.rawBody;
  }
  if (c.signer) {
    Object.assign(
      headers,
      signHeaders(
        c.signer,
        c.method,
        c.path,
        body ?? new Uint8Array(),
        now,
        undefined,
        undefined,
        c.accountSeed,
      ),
    );
  }
  const init: RequestInit = { method: c.method, headers };
  if (body !== undefined) init.body = body as Uint8Array<ArrayBuffer>;
  const res = await app.request(c.path, init);
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // non-JSON bodies stay text so assertions can show them
  }
  // Read as the API's response type: the test asserts the fields of the one it expects.
  return { status: res.status, body: parsed as ResponseBody, json: parsed, headers: res.headers };
}

export function memoryPorts(material: SigningMaterial): MemoryPorts {
  return createMemoryPorts(new StaticSigningKeyProvider(material));
}

/** An app over the given ports with a controllable clock and captured logs. */
export function harness<P extends Ports>(
  ports: P,
  options: {
    config?: Partial<ServiceConfig>;
    start?: number;
    random?: (n: number) => Uint8Array;
    /** Wake-ups (push routes). @default testWakeups(): on, recording instead of sending */
    wakeups?: WakeupOptions;
    /** Attachment ports (attachment routes). @default none: the routes answer NOT_CONFIGURED */
    attachments?: AttachmentPorts;
    /** Anonymous-token stores. @default fresh in-memory ones; `false`: none (NOT_CONFIGURED) */
    tokens?: TokenPorts | false;
  } = {},
) {
  const clock = { now: options.start ?? 1_750_000_000_000 };
  const logs: string[] = [];
  const config = { ...DEFAULT_CONFIG, ...options.config };
  const services: AppServices = createServices(ports, {
    clock: () => clock.now,
    config,
    ...(options.random ? { random: options.random } : {}),
    wakeups: options.wakeups ?? testWakeups(),
    ...(options.attachments ? { attachments: options.attachments } : {}),
    ...(options.tokens === false ? {} : { tokens: options.tokens ?? memoryTokenPorts() }),
  });
  const app = buildApp({ services, log: (l) => logs.push(l) });

  const call = (c: Call): Promise<CallResult> => requestApp(app, c, clock.now);

  /**
   * Registers a new account with one device and returns that device (id 1); `fields` adds to
   * the registration body (`firstContact`, `unrestricted`).
   */
  async function register(
    accessKey?: Uint8Array,
    fields: Pick<RegisterRequest, 'firstContact' | 'unrestricted'> = {},
  ): Promise<TestDevice> {
    const device = newDevice(newAccount());
    const res = await call({
      method: 'PUT',
      path: `/v1/accounts/${device.account.address}`,
      json: { ...registrationBody(device, clock.now, accessKey), ...fields },
    });
    if (res.status !== 200) throw new Error(`register failed: ${JSON.stringify(res.body)}`);
    device.deviceId = res.body.deviceId;
    return device;
  }

  /** Links a further device to `account` under the smallest free id. */
  async function link(account: TestAccount): Promise<TestDevice> {
    const view = await ports.accounts.get(account.address);
    const taken = new Set(view?.devices.map((d) => d.deviceId));
    let free = 1;
    while (taken.has(free)) free++;
    const device = newDevice(account, free);
    const res = await call({
      method: 'POST',
      path: `/v1/accounts/${account.address}/devices`,
      json: addDeviceBody(device, clock.now),
    });
    if (res.status !== 200) throw new Error(`link failed: ${JSON.stringify(res.body)}`);
    device.deviceId = res.body.deviceId;
    return device;
  }

  return { app, call, clock, logs, ports, register, link, services };
}

export function testMaterial(): SigningMaterial {
  return generateSigningMaterial({
    keyId: 7,
    notAfter: 2_000_000_000_000,
    rootSeed: TEST_ROOT_SEED,
  }).material;
}

/** The delivery access key Bob registers with in {@link aliceAndBob}. */
export const BOB_ACCESS_KEY = new Uint8Array(16).fill(7);

/** Independent oracle: u32 of the first 4 bytes of SHA-256(IdentityBundle). */
export function registrationId(identity: Uint8Array): number {
  return createHash('sha256').update(identity).digest().readUInt32BE(0);
}

/** The sealed-send authorization header carrying `key`. */
export function accessHeaders(key: Uint8Array = BOB_ACCESS_KEY): Record<string, string> {
  return { [ACCESS_KEY_HEADER]: toBase64Url(key) };
}

/** An app over in-memory adapters with Bob (access key {@link BOB_ACCESS_KEY}) and Alice. */
export async function aliceAndBob(config: Partial<ServiceConfig> = {}) {
  const h = harness(memoryPorts(testMaterial()), { config });
  const bob = await h.register(BOB_ACCESS_KEY);
  const alice = await h.register(new Uint8Array(16).fill(1));
  return { h, bob, alice };
}
