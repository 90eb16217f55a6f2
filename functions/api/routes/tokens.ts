/** Anonymous token handlers (docs/SERVICE.md §15.2). */
import type { OperationHandlers } from '../operations.ts';

/** The signed issuer key list (public) and issuance (owner-signed). */
export const tokenHandlers = {
  tokenKeys: (c) => c.var.services.tokens.keyList(),
  issueTokens: (c, { body }) => c.var.services.tokens.issue(c.var.caller, body),
} satisfies Partial<OperationHandlers>;
