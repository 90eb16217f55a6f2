/** The headers of a sealed request (docs/SERVICE.md §3.3, §15), and the sealed device-list read. */
import type { Context } from 'hono';
import { ACCESS_KEY_HEADER, TOKEN_HEADER } from 'sealpost/wire/api';
import type { SealedCredentials } from '../../domain/sealed-access.ts';
import type { AppEnv } from '../env.ts';
import type { OperationHandlers } from '../operations.ts';

/**
 * The access key and token headers of a sealed send, bundle fetch or device-list read, as sent
 * (checked by the domain's `authorizeSealed`).
 *
 * @example c.var.services.messages.sendSealed(address, sealedCredentials(c), body)
 */
export function sealedCredentials(c: Context<AppEnv>): SealedCredentials {
  return { accessKey: c.req.header(ACCESS_KEY_HEADER), token: c.req.header(TOKEN_HEADER) };
}

/**
 * The sealed device-list read (docs/SERVICE.md §15.6): the listed account's access key, or
 * nothing for an `anyone` account; the caller is not named. Its other sealed routes live with
 * their owner-signed twins (`prekeys.ts`, `messages.ts`).
 */
export const sealedHandlers = {
  fetchSealedDevices: (c, { param }) =>
    c.var.services.accounts.listDevicesSealed(param('address'), sealedCredentials(c)),
} satisfies Partial<OperationHandlers>;
