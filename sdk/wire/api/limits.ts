/**
 * Limits of the service API (docs/SERVICE.md §Limits). Clients use them to split
 * work before the server would reject it; the server enforces every one.
 */
import { MAX_SEALED_ENVELOPE_BYTES } from '../sealed.ts';

/**
 * Active devices per account (Signal allows 6). Device ids are 1..=MAX_DEVICES (docs/SERVICE.md §4): a
 * new device gets the smallest free id, so ids of removed devices are reused.
 */
export const MAX_DEVICES = 6;

/** One-time EC and one-time KEM prekeys accepted per upload call, each kind. */
export const MAX_PREKEYS_PER_UPLOAD = 100;

/** One-time prekeys of each kind a device may keep on the server. */
export const MAX_STORED_PREKEYS = 500;

/**
 * Largest envelope per device, in bytes: the sealed-envelope bound of the protocol (128 KiB,
 * room for a 96 KiB plaintext in a prekey message plus sealed-sender overhead).
 */
export const MAX_ENVELOPE_BYTES = MAX_SEALED_ENVELOPE_BYTES;

/** Messages returned by one fetch and ids accepted by one acknowledgement. */
export const MAX_FETCH_BATCH = 100;

/**
 * Most ids `GET /v1/messages?ack=` carries: the signed path and query is at most 2,048 bytes
 * (`MAX_SIGNED_PATH_BYTES`), and 64 ids (1,535 bytes with encoded commas) leave room for the
 * path, `limit`, `cursor` and `payloads`.
 */
export const MAX_FETCH_ACK_IDS = 64;

/**
 * Largest request body, in bytes: a send may list up to twice {@link MAX_DEVICES} envelopes of
 * the maximum size (base64url: 174,763 characters each) plus JSON framing.
 */
export const MAX_BODY_BYTES = 2_200_000;

/** Largest body of every other route (a prekey upload of 100 + 100 keys is about 230 KB). */
export const MAX_SMALL_BODY_BYTES = 262_144;

/** Owner signatures and registration proofs are accepted within this distance from now. */
export const SIGNATURE_WINDOW_MS = 5 * 60 * 1000;

/**
 * Sender certificate lifetime: 24 hours (Signal uses 7 days), so the cached certificate of a
 * removed device stops being accepted within a day.
 */
export const SENDER_CERTIFICATE_LIFETIME_MS = 24 * 60 * 60 * 1000;

/**
 * Precision of `DeliveredMessage.receivedAt` and of every time the service stores with a
 * message: one hour (docs/SERVICE.md §7.2). The server reports receipt time rounded down to a
 * multiple of this; a recipient checks a sender certificate at `receivedAt` plus this.
 */
export const RECEIVED_AT_PRECISION_MS = 3_600_000;

/** Default message expiry, overridable by the deployment (`SEALPOST_MESSAGE_TTL_DAYS`). */
export const DEFAULT_MESSAGE_TTL_DAYS = 30;

/** Bytes of a delivery access key (derived client-side; the server keeps its SHA-256). */
export const ACCESS_KEY_BYTES = 16;

/**
 * Bytes of a send request's id (random, chosen per request, only deduplicates its retries) and
 * of a delivered message's id (the server-assigned position in the device's mailbox).
 */
export const MESSAGE_ID_BYTES = 16;

/** Bytes of a request nonce. */
export const NONCE_BYTES = 16;

/** Bytes of an attachment id (random, chosen by the server; docs/SERVICE.md §7.6). */
export const ATTACHMENT_ID_BYTES = 16;

/**
 * Largest blob size (the padded, encrypted size) any deployment accepts, in bytes: 4 GiB, well
 * inside S3's 10,000 parts at the service's part size. A deployment's own maximum
 * (`SEALPOST_ATTACHMENT_MAX_BYTES`, default {@link DEFAULT_ATTACHMENT_MAX_BYTES}) is at most this.
 */
export const ATTACHMENT_BLOB_LIMIT = 4 * 1024 ** 3;

/** A deployment's default largest attachment blob: 512 MiB. */
export const DEFAULT_ATTACHMENT_MAX_BYTES = 512 * 1024 ** 2;

/** Largest number of parts of a multipart attachment upload. */
export const MAX_ATTACHMENT_PARTS = 1000;
