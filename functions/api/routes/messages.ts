/** Send, fetch and acknowledge handlers (docs/SERVICE.md §7). */
import { MAX_FETCH_BATCH } from 'sealpost/wire/api';
import type { OperationHandlers } from '../operations.ts';
import { sealedCredentials } from './sealed.ts';

/** Sealed, identified and multi-recipient sends, fetch, ack. */
export const messageHandlers = {
  sendMulti: (c, { body }) => c.var.services.messages.sendMulti(body),
  sendMultiIdentified: (c, { body }) =>
    c.var.services.messages.sendMultiIdentified(c.var.caller, body),
  sendSealed: (c, { param, body }) =>
    c.var.services.messages.sendSealed(param('address'), sealedCredentials(c), body),
  sendIdentified: (c, { param, body }) =>
    c.var.services.messages.sendIdentified(c.var.caller, param('address'), body),
  fetchMessages: (c, { query }) =>
    c.var.services.messages.fetch(c.var.caller, query.limit ?? MAX_FETCH_BATCH, query.cursor, {
      payloads: query.payloads === '1',
      ...(query.ack ? { ack: query.ack } : {}),
    }),
  ackMessages: (c, { body }) => c.var.services.messages.ack(c.var.caller, body.messageIds),
} satisfies Partial<OperationHandlers>;
