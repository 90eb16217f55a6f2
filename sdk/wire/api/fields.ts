/**
 * Field schemas shared by every request and response of the service API. Bytes travel as
 * unpadded base64url (RFC 4648 §5); each byte field has an exact or maximum decoded length, so
 * a schema check alone bounds what the server allocates.
 */
import * as v from 'valibot';
import { tryFromBase64Url } from '../../util/bytes.ts';

const B64URL_PATTERN = /^[A-Za-z0-9_-]*$/;

/** Characters of the unpadded base64url encoding of `n` bytes. */
export function base64UrlLength(n: number): number {
  return Math.ceil((n * 4) / 3);
}

const canonical = (s: string): boolean => tryFromBase64Url(s) !== undefined;

/**
 * A base64url string that decodes to exactly `n` bytes (canonical trailing bits).
 *
 * @example bytesField(32) // accepts a 43-character base64url string
 */
export function bytesField(n: number) {
  return v.pipe(
    v.string(),
    v.length(base64UrlLength(n)),
    v.regex(B64URL_PATTERN),
    v.check(canonical, 'not canonical base64url'),
    v.description(`base64url, ${n} bytes`),
  );
}

/**
 * A base64url string that decodes to 1..`max` bytes.
 *
 * @example maxBytesField(1024)
 */
export function maxBytesField(max: number) {
  return v.pipe(
    v.string(),
    v.minLength(2),
    v.maxLength(base64UrlLength(max)),
    v.regex(B64URL_PATTERN),
    v.check(canonical, 'not canonical base64url'),
    v.description(`base64url, 1..${max} bytes`),
  );
}

/** An attachment id: 16 random bytes, base64url (22 characters), chosen by the server. */
export const AttachmentIdField = v.pipe(
  v.string(),
  v.length(22),
  v.regex(B64URL_PATTERN),
  v.check(canonical, 'not canonical base64url'),
  v.description('attachment id, base64url of 16 bytes'),
);

/** A text address: 32 characters of lower-case RFC 4648 base32 (docs/PROTOCOL.md §1.2). */
export const AddressField = v.pipe(
  v.string(),
  v.regex(/^[a-z2-7]{32}$/),
  v.description('account address'),
);

/** A u32 id that is never 0 (device ids, prekey ids). */
export const IdField = v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(0xffffffff));

/** Milliseconds since the Unix epoch. */
export const TimestampField = v.pipe(
  v.number(),
  v.integer(),
  v.minValue(0),
  v.maxValue(Number.MAX_SAFE_INTEGER),
);

/** A non-negative count. */
export const CountField = v.pipe(v.number(), v.integer(), v.minValue(0));

/** A device id in a path segment or header: decimal, no sign, no leading zero. */
export const DeviceIdText = v.pipe(v.string(), v.regex(/^[1-9][0-9]{0,9}$/));

/**
 * A decimal integer carried as text (a path segment or a query parameter), read as a number in
 * `min..=max`: digits only, no sign, no leading zero. Its output type is an integer, which is
 * what the OpenAPI document shows.
 *
 * @example v.parse(integerText(1, 100), '50') // 50
 */
export function integerText(min: number, max: number) {
  return v.pipe(
    v.string(),
    v.regex(/^(0|[1-9][0-9]{0,15})$/),
    v.transform(Number),
    v.pipe(v.number(), v.integer(), v.minValue(min), v.maxValue(max)),
  );
}

/** A device id in a path segment: decimal text read as an {@link IdField}. */
export const DeviceIdParam = integerText(1, 0xffffffff);
