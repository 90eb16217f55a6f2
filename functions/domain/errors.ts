/**
 * Domain errors of the mailbox service. Every failure a client can cause or observe is a
 * {@link ServiceError} whose `code` is one of the API error codes; `functions/api/errors.ts`
 * maps the code to a status through the one table in `sdk/wire/api/errors.ts`. Messages are
 * safe to return: they never contain key material, envelopes, access keys or senders.
 */
import type { ApiErrorCode, MultiRecipientAccountError } from 'sealpost/wire/api';

/** Base class of every domain error. */
export class ServiceError extends Error {
  readonly code: ApiErrorCode;
  constructor(code: ApiErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** A send does not list exactly the recipient's current devices (Signal's 409). */
export class DeviceMismatchError extends ServiceError {
  readonly missing: readonly number[];
  readonly extra: readonly number[];
  constructor(missing: readonly number[], extra: readonly number[]) {
    super('DEVICE_MISMATCH', 'the device list does not match the recipient');
    this.missing = missing;
    this.extra = extra;
  }
}

/**
 * A send names a registration id that is not the one of the device now holding that id: the id
 * was reused by a new device (Signal's 410). A removed device is `extra` (409) instead.
 */
export class StaleDevicesError extends ServiceError {
  readonly stale: readonly number[];
  constructor(stale: readonly number[]) {
    super('STALE_DEVICES', 'the device list names devices that were replaced');
    this.stale = stale;
  }
}

/**
 * A refused multi-recipient send (docs/SERVICE.md §7.5): the first check that failed, with
 * every account that failed it, in request order: `UNAUTHORIZED`, `INVALID_TOKEN`,
 * `TOKEN_SPENT`, `REQUEST_LIMIT` and `MAILBOX_FULL` name the address alone,
 * `DEVICE_MISMATCH` adds `missing`/`extra` and `STALE_DEVICES` adds `stale`. The addresses
 * are the ones the request named, so the answer tells the sender nothing it did not send.
 */
export class MultiRecipientError extends ServiceError {
  readonly accounts: readonly MultiRecipientAccountError[];
  constructor(
    code: ApiErrorCode,
    message: string,
    accounts: readonly MultiRecipientAccountError[],
  ) {
    super(code, message);
    this.accounts = accounts;
  }
}

/**
 * A signed timestamp is outside the signature window (docs/SERVICE.md §3.1). Carries the
 * server clock, which is public: the check runs before any key lookup or signature check.
 */
export class ClockSkewError extends ServiceError {
  readonly serverTime: number;
  constructor(serverTime: number) {
    super('CLOCK_SKEW', 'the request timestamp is outside the signature window; see serverTime');
    this.serverTime = serverTime;
  }
}

/** An added device asked for a device id that is in use (docs/SERVICE.md §4). */
export class DeviceIdTakenError extends ServiceError {
  readonly freeDeviceIds: readonly number[];
  constructor(freeDeviceIds: readonly number[]) {
    super('DEVICE_ID_TAKEN', 'the requested device id is in use');
    this.freeDeviceIds = freeDeviceIds;
  }
}

/** A storage dependency failed or throttled; the request may be retried as is. */
export class UnavailableError extends ServiceError {
  constructor(message = 'storage is temporarily unavailable', options?: { cause?: unknown }) {
    super('UNAVAILABLE', message, options);
  }
}

/** The one answer to every owner-authentication failure: which check failed is not revealed. */
export function unauthorized(): ServiceError {
  return new ServiceError('UNAUTHORIZED', 'request is not authorized');
}
