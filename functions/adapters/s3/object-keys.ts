/**
 * S3 key layout of envelope objects (docs/SERVICE.md §Storage):
 * `env/<4 hex of SHA-256(tail)>/<tail>`, tail `<address>/<deviceId>/<registrationId>/<hex position>`.
 * The hash prefix spreads writes over 65,536 prefixes (S3 scales request rates per prefix);
 * the rest makes the key a pure function of mailbox and server-assigned position, so a retried
 * send hits the same key and an acknowledgement deletes it without a read. Everything lives under `env/`, the prefix lifecycle rules and IAM are scoped to.
 * Shared payloads of multi-recipient sends live under `pay/` beside them, keyed by their id.
 */
import { createHash } from 'node:crypto';
import { ENVELOPE_PREFIX, PAYLOAD_PREFIX } from '../../deployment.ts';
import { type Mailbox, PAYLOAD_ID_BYTES } from '../../domain/ports.ts';

/** The prefixes of every envelope and every shared payload object (deployment contract). */
export { ENVELOPE_PREFIX, PAYLOAD_PREFIX };

/**
 * The object key of one envelope.
 *
 * @example envelopeObjectKey(mailbox, position) // 'env/3fa1/<address>/1/<32 hex>'
 */
export function envelopeObjectKey(mailbox: Mailbox, position: Uint8Array): string {
  const id = Buffer.from(position).toString('hex');
  const tail = `${mailbox.address}/${mailbox.deviceId}/${mailbox.registrationId}/${id}`;
  const spread = createHash('sha256').update(tail).digest('hex').slice(0, 4);
  return `${ENVELOPE_PREFIX}${spread}/${tail}`;
}

/**
 * The object key of one shared payload (docs/PROTOCOL.md §14.8):
 * `pay/<4 hex of SHA-256(id)>/<hex id>`. The id is 16 random bytes the service drew for the
 * request, so the key names no mailbox, sender or time; the hash prefix spreads writes as for
 * envelopes.
 *
 * @throws {RangeError} if `id` is not {@link PAYLOAD_ID_BYTES} bytes
 * @example payloadObjectKey(id) // 'pay/9c1e/<32 hex>'
 */
export function payloadObjectKey(id: Uint8Array): string {
  if (id.length !== PAYLOAD_ID_BYTES) {
    throw new RangeError(`id must be ${PAYLOAD_ID_BYTES} bytes`);
  }
  const spread = createHash('sha256').update(id).digest('hex').slice(0, 4);
  return `${PAYLOAD_PREFIX}${spread}/${Buffer.from(id).toString('hex')}`;
}
