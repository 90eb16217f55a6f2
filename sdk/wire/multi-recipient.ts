/**
 * The multi-recipient send request (docs/PROTOCOL.md §14.4): one shared payload for N recipient
 * accounts, each with its own authorization and one sealed envelope (the per-device header)
 * per device. Pure byte layout, no cryptography; the service decodes it and never opens
 * anything inside.
 *
 * ```
 * request = u8 version=1 || requestId(16) || u16 accountCount || account* || var32(payload)
 * account = address(20) || u8 authKind || auth || u8 deviceCount || device*
 * auth    = nothing (kind 0) | accessKey(16) (kind 1) | token(354) (kind 2)
 * device  = u32 deviceId || u32 registrationId || var16(header)
 * ```
 */
import { MalformedEnvelopeError, UnsupportedVersionError } from '../errors.ts';
import { ArgumentRangeError, ArgumentTypeError } from '../util/argument-errors.ts';
import { assertBytes, ByteReader, ByteWriter, bytesKey, isU32 } from '../util/bytes.ts';
import { addressFromBytes, addressToBytes } from './identity.ts';
import { decodeSharedPayload, MAX_SHARED_PAYLOAD_BYTES } from './multi-recipient-payload.ts';
import { envelopeCommitment, SEALED_ENVELOPE_VERSION } from './sealed.ts';

/** Version byte of the multi-recipient request. */
export const MULTI_RECIPIENT_VERSION = 1;
/** Bytes of the request id (random per send request; it only deduplicates retries). */
export const MULTI_RECIPIENT_REQUEST_ID_BYTES = 16;
/** Raw address bytes (PROTOCOL.md §1.2). */
const ADDRESS_BYTES = 20;
/** Bytes of a delivery access key (docs/SERVICE.md §3.3). */
export const MULTI_RECIPIENT_ACCESS_KEY_BYTES = 16;
/** Bytes of an anonymous token, type 0x0002 (PROTOCOL.md §13). */
export const MULTI_RECIPIENT_TOKEN_BYTES = 354;
/** Authorization kinds, the `authKind` byte. */
export const MULTI_RECIPIENT_AUTH_NONE = 0;
export const MULTI_RECIPIENT_AUTH_ACCESS_KEY = 1;
export const MULTI_RECIPIENT_AUTH_TOKEN = 2;
/**
 * Recipient accounts per request. A group larger than this (or whose headers exceed
 * {@link MAX_MULTI_RECIPIENT_BYTES}) is sent as several requests, each with its own copy of
 * the payload.
 */
export const MAX_MULTI_RECIPIENT_ACCOUNTS = 256;
/** Devices listed per account: twice the 6 active devices, so a stale list still gets 409/410. */
export const MAX_MULTI_RECIPIENT_DEVICES_PER_ACCOUNT = 12;
/** Devices listed in one request, over all accounts. */
export const MAX_MULTI_RECIPIENT_DEVICES = 1024;
/**
 * Smallest per-device header: a sealed envelope (PROTOCOL.md §6.3) with the 113-byte header,
 * an inner content of its 7 header bytes and the 432-byte franking block, and a tag.
 */
export const MIN_DEVICE_HEADER_BYTES = 568;
/**
 * Largest per-device header. A reference in a prekey message seals to at most
 * 113 + padmeLength(439 + 1,187 + 1,907) + 16 = 113 + 3,584 + 16 = 3,713 bytes (PROTOCOL.md §14.3).
 */
export const MAX_DEVICE_HEADER_BYTES = 4096;
/** Largest request body: the service's send body cap (docs/SERVICE.md §9). */
export const MAX_MULTI_RECIPIENT_BYTES = 2_200_000;

/** How one recipient account authorizes the send (docs/SERVICE.md §3.3, §15.3). */
export type MultiRecipientAuth =
  | { readonly kind: 'none' }
  | { readonly kind: 'accessKey'; readonly accessKey: Uint8Array }
  | { readonly kind: 'token'; readonly token: Uint8Array };

/** One recipient device: its ids and the sealed envelope that carries the payload reference. */
export interface MultiRecipientDevice {
  /** Device id, 1..2^32 - 1. */
  readonly deviceId: number;
  /** The registration id of the device generation the header is sealed for (u32). */
  readonly registrationId: number;
  /** A sealed envelope, version 2 (PROTOCOL.md §6.3), whose ratchet plaintext is a reference. */
  readonly header: Uint8Array;
}

/** One recipient account of a multi-recipient send. */
export interface MultiRecipientAccount {
  /** The account's address (32 characters of base32). */
  readonly address: string;
  /** The account's authorization: its access key, a token, or none. */
  readonly auth: MultiRecipientAuth;
  /** Every target device of the account, each once. */
  readonly devices: readonly MultiRecipientDevice[];
}

/** A multi-recipient send request. */
export interface MultiRecipientRequest {
  /** 16 random bytes per send request (retries reuse it). */
  readonly requestId: Uint8Array;
  /** 1..256 recipient accounts, each once. */
  readonly accounts: readonly MultiRecipientAccount[];
  /** The shared payload (PROTOCOL.md §14.2), stored once. */
  readonly payload: Uint8Array;
}

function authBytes(auth: MultiRecipientAuth, where: string): { kind: number; bytes: Uint8Array } {
  if (typeof auth !== 'object' || auth === null) {
    throw new ArgumentTypeError(`${where}.auth must be an object`);
  }
  switch (auth.kind) {
    case 'none':
      return { kind: MULTI_RECIPIENT_AUTH_NONE, bytes: new Uint8Array(0) };
    case 'accessKey':
      assertBytes(auth.accessKey, `${where}.auth.accessKey`, MULTI_RECIPIENT_ACCESS_KEY_BYTES);
      return { kind: MULTI_RECIPIENT_AUTH_ACCESS_KEY, bytes: auth.accessKey };
    case 'token':
      assertBytes(auth.token, `${where}.auth.token`, MULTI_RECIPIENT_TOKEN_BYTES);
      return { kind: MULTI_RECIPIENT_AUTH_TOKEN, bytes: auth.token };
    default:
      throw new ArgumentRangeError(`${where}.auth.kind must be none, accessKey or token`);
  }
}

function checkHeader(header: Uint8Array, name: string): void {
  assertBytes(header, name);
  if (header.length < MIN_DEVICE_HEADER_BYTES || header.length > MAX_DEVICE_HEADER_BYTES) {
    throw new ArgumentRangeError(
      `${name} must be ${MIN_DEVICE_HEADER_BYTES}..${MAX_DEVICE_HEADER_BYTES} bytes`,
    );
  }
  if (header[0] !== SEALED_ENVELOPE_VERSION) {
    throw new ArgumentRangeError(`${name} must be a sealed envelope (version 2)`);
  }
}

/**
 * Encodes a multi-recipient request. Accounts and devices keep the given order; every limit
 * the decoder applies is checked here first, so whatever this returns decodes.
 *
 * @throws ArgumentTypeError / ArgumentRangeError naming the field: a request id other than 16
 *   bytes, no account or more than 256, an invalid or repeated address, a bad authorization,
 *   no device or more than 12 for an account (1,024 in all), a device id of 0 or repeated in
 *   its account, a registration id out of u32, a header outside 568..4,096 bytes or not a
 *   version-2 envelope, a payload that does not decode, or a body over 2,200,000 bytes
 * @example
 * ```ts
 * const body = encodeMultiRecipientRequest({ requestId, accounts: [{ address, auth: { kind: 'accessKey', accessKey }, devices }], payload });
 * ```
 */
export function encodeMultiRecipientRequest(request: MultiRecipientRequest): Uint8Array {
  if (typeof request !== 'object' || request === null) {
    throw new ArgumentTypeError('request must be an object');
  }
  assertBytes(request.requestId, 'requestId', MULTI_RECIPIENT_REQUEST_ID_BYTES);
  assertBytes(request.payload, 'payload');
  try {
    decodeSharedPayload(request.payload);
  } catch (cause) {
    throw new ArgumentRangeError('payload is not a shared payload', { cause });
  }
  const { accounts } = request;
  if (!Array.isArray(accounts)) throw new ArgumentTypeError('accounts must be an array');
  if (accounts.length < 1 || accounts.length > MAX_MULTI_RECIPIENT_ACCOUNTS) {
    throw new ArgumentRangeError(`accounts must hold 1..${MAX_MULTI_RECIPIENT_ACCOUNTS} entries`);
  }
  const w = new ByteWriter(1024)
    .u8(MULTI_RECIPIENT_VERSION)
    .bytes(request.requestId)
    .u16(accounts.length);
  const seen = new Set<string>();
  let deviceTotal = 0;
  accounts.forEach((account: MultiRecipientAccount, i) => {
    const where = `accounts[${i}]`;
    if (typeof account !== 'object' || account === null) {
      throw new ArgumentTypeError(`${where} must be an object`);
    }
    const address = addressToBytes(account.address);
    if (seen.has(account.address)) throw new ArgumentRangeError(`${where}.address is repeated`);
    seen.add(account.address);
    const auth = authBytes(account.auth, where);
    const { devices } = account;
    if (!Array.isArray(devices)) throw new ArgumentTypeError(`${where}.devices must be an array`);
    if (devices.length < 1 || devices.length > MAX_MULTI_RECIPIENT_DEVICES_PER_ACCOUNT) {
      throw new ArgumentRangeError(
        `${where}.devices must hold 1..${MAX_MULTI_RECIPIENT_DEVICES_PER_ACCOUNT} entries`,
      );
    }
    deviceTotal += devices.length;
    if (deviceTotal > MAX_MULTI_RECIPIENT_DEVICES) {
      throw new ArgumentRangeError(
        `a request lists at most ${MAX_MULTI_RECIPIENT_DEVICES} devices`,
      );
    }
    w.bytes(address).u8(auth.kind).bytes(auth.bytes).u8(devices.length);
    const ids = new Set<number>();
    devices.forEach((device: MultiRecipientDevice, j) => {
      const at = `${where}.devices[${j}]`;
      if (typeof device !== 'object' || device === null) {
        throw new ArgumentTypeError(`${at} must be an object`);
      }
      if (!isU32(device.deviceId) || device.deviceId === 0) {
        throw new ArgumentRangeError(`${at}.deviceId must be an integer in 1..2^32 - 1`);
      }
      if (ids.has(device.deviceId)) throw new ArgumentRangeError(`${at}.deviceId is repeated`);
      ids.add(device.deviceId);
      if (!isU32(device.registrationId)) {
        throw new ArgumentRangeError(`${at}.registrationId must be a u32`);
      }
      checkHeader(device.header, `${at}.header`);
      w.u32(device.deviceId).u32(device.registrationId).var16(device.header);
    });
  });
  w.var32(request.payload);
  if (w.length > MAX_MULTI_RECIPIENT_BYTES) {
    throw new ArgumentRangeError(`request must be at most ${MAX_MULTI_RECIPIENT_BYTES} bytes`);
  }
  return w.finish();
}

/**
 * Strictly decodes a multi-recipient request: the size bound first, then the version, then
 * every field with its bound before anything is allocated; no repeated address or device id,
 * no trailing bytes. The headers are checked only as far as the service reads them (length,
 * version byte, so that the franking commitment is at bytes 1..33); the payload's layout is
 * checked by {@link decodeSharedPayload}.
 *
 * @throws MalformedEnvelopeError on any violation (the message names the field, never a value)
 * @throws UnsupportedVersionError if the request's or the payload's version byte is unknown
 * @example const { requestId, accounts, payload } = decodeMultiRecipientRequest(body);
 */
export function decodeMultiRecipientRequest(bytes: Uint8Array): MultiRecipientRequest {
  assertBytes(bytes, 'bytes');
  if (bytes.length > MAX_MULTI_RECIPIENT_BYTES) {
    throw new MalformedEnvelopeError('multi-recipient request is too long');
  }
  const r = new ByteReader(bytes, 'multi-recipient request');
  const version = r.u8();
  if (version !== MULTI_RECIPIENT_VERSION) {
    throw new UnsupportedVersionError(version, 'multi-recipient request');
  }
  const requestId = r.bytes(MULTI_RECIPIENT_REQUEST_ID_BYTES);
  const accountCount = r.u16();
  if (accountCount < 1 || accountCount > MAX_MULTI_RECIPIENT_ACCOUNTS) {
    throw new MalformedEnvelopeError('multi-recipient request has a bad account count');
  }
  const accounts: MultiRecipientAccount[] = [];
  const seen = new Set<string>();
  let deviceTotal = 0;
  for (let i = 0; i < accountCount; i++) {
    const addressBytes = r.bytes(ADDRESS_BYTES);
    const key = bytesKey(addressBytes);
    if (seen.has(key))
      throw new MalformedEnvelopeError('multi-recipient request repeats an account');
    seen.add(key);
    const auth = readAuth(r);
    const deviceCount = r.u8();
    if (deviceCount < 1 || deviceCount > MAX_MULTI_RECIPIENT_DEVICES_PER_ACCOUNT) {
      throw new MalformedEnvelopeError('multi-recipient request has a bad device count');
    }
    deviceTotal += deviceCount;
    if (deviceTotal > MAX_MULTI_RECIPIENT_DEVICES) {
      throw new MalformedEnvelopeError('multi-recipient request lists too many devices');
    }
    const devices: MultiRecipientDevice[] = [];
    const ids = new Set<number>();
    for (let j = 0; j < deviceCount; j++) {
      const deviceId = r.u32();
      if (deviceId === 0)
        throw new MalformedEnvelopeError('multi-recipient request has device id 0');
      if (ids.has(deviceId)) {
        throw new MalformedEnvelopeError('multi-recipient request repeats a device');
      }
      ids.add(deviceId);
      const registrationId = r.u32();
      const header = r.var16(MAX_DEVICE_HEADER_BYTES);
      if (header.length < MIN_DEVICE_HEADER_BYTES || envelopeCommitment(header) === undefined) {
        throw new MalformedEnvelopeError('multi-recipient request has a malformed header');
      }
      devices.push({ deviceId, registrationId, header });
    }
    accounts.push({ address: addressFromBytes(addressBytes), auth, devices });
  }
  const payload = r.var32(MAX_SHARED_PAYLOAD_BYTES);
  r.end();
  decodeSharedPayload(payload);
  return { requestId, accounts, payload };
}

function readAuth(r: ByteReader): MultiRecipientAuth {
  const kind = r.u8();
  switch (kind) {
    case MULTI_RECIPIENT_AUTH_NONE:
      return { kind: 'none' };
    case MULTI_RECIPIENT_AUTH_ACCESS_KEY:
      return { kind: 'accessKey', accessKey: r.bytes(MULTI_RECIPIENT_ACCESS_KEY_BYTES) };
    case MULTI_RECIPIENT_AUTH_TOKEN:
      return { kind: 'token', token: r.bytes(MULTI_RECIPIENT_TOKEN_BYTES) };
    default:
      throw new MalformedEnvelopeError('multi-recipient request has an unknown authorization kind');
  }
}
