/**
 * S3 key layout of envelope objects (docs/SERVICE.md §Storage):
 * `env/<4 hex of SHA-256(tail)>/<tail>`, tail `<address>/<deviceId>/<registrationId>/<hex position>`.
 * The hash prefix spreads writes over 65,536 prefixes (S3 scales request rates per prefix);
 * the rest makes the key a pure function of mailbox and server-assigned position, so a retried
 * send hits the same key and an acknowledgement deletes it without a read. Everything lives under `env/`, the prefix lifecycle rules and IAM are scoped to.
 */
import { createHash } from 'node:crypto';
import { ENVELOPE_PREFIX } from '../../deployment.ts';
import type { Mailbox } from '../../domain/ports.ts';

/** The prefix of every envelope object (deployment contract). */
export { ENVELOPE_PREFIX };

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
