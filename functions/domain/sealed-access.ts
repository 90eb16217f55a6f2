/**
 * Who may make a sealed request to a recipient (docs/SERVICE.md §15.1): a sealed send, a
 * sealed bundle fetch or a sealed device-list read names no caller, so it is authorized by what
 * it carries, against the recipient's first-contact mode:
 *
 * - `contacts`: the recipient's access key only;
 * - `requests`: the access key, or an anonymous token (a message request);
 * - `anyone`: nothing is needed.
 *
 * An unknown recipient, a wrong key and a token for a `contacts` recipient all get the one
 * `UNAUTHORIZED` answer, so none of them tells whether the address exists or what its mode is.
 */
import { constantTimeEqual } from 'sealpost/wire';
import { ACCESS_KEY_BYTES, tryFromBase64Url } from 'sealpost/wire/api';
import { sha256 } from './crypto.ts';
import { ServiceError } from './errors.ts';
import { type AccountStore, type AccountView, firstContactOf } from './ports.ts';
import { invalidToken, type TokenService, type VerifiedToken } from './token-service.ts';

/** Compared against when the recipient does not exist, so both cases cost the same. */
const UNKNOWN_RECIPIENT_HASH = new Uint8Array(32);

/** The headers of a sealed request, as sent (either may be absent). */
export interface SealedCredentials {
  /** `x-sealpost-access-key`: base64url of the recipient's 16-byte access key. */
  readonly accessKey?: string | undefined;
  /** `x-sealpost-token`: base64url of an anonymous token. */
  readonly token?: string | undefined;
}

/** Why a sealed request is let through. */
export type SealedGrant =
  | { readonly kind: 'accessKey' }
  | { readonly kind: 'anyone' }
  | { readonly kind: 'token'; readonly token: VerifiedToken };

/**
 * The one refusal of a sealed request by the recipient: unknown, wrong key, or a mode that
 * does not take what was presented.
 */
export function notAuthorized(): ServiceError {
  return new ServiceError('UNAUTHORIZED', 'not authorized to send to this recipient');
}

/**
 * Authorizes an anonymous read of `address`'s device list (docs/SERVICE.md §15.6): the
 * account's access key, or nothing for an `anyone` account. A token pays for first messages,
 * not for reads, so it is refused with the same `UNAUTHORIZED` as a wrong key, whatever the
 * account (its answer tells nothing about the address either).
 *
 * @example const { view } = await authorizeSealedRead(accounts, address, { accessKey });
 * @throws {ServiceError} `UNAUTHORIZED`.
 */
export async function authorizeSealedRead(
  accounts: AccountStore,
  address: string,
  credentials: SealedCredentials,
): Promise<{ view: AccountView; grant: SealedGrant }> {
  if (credentials.token !== undefined) throw notAuthorized();
  return authorizeSealed(accounts, undefined, address, { accessKey: credentials.accessKey });
}

/**
 * Authorizes a sealed request to `address`. In order: not both headers (`BAD_REQUEST`); a
 * token must verify (`INVALID_TOKEN`, before the recipient is read); then the recipient must
 * exist and take what was presented (`UNAUTHORIZED`). A token for an `anyone` recipient is
 * not needed and is not redeemed (`kind: 'anyone'`).
 *
 * @example const { view, grant } = await authorizeSealed(accounts, tokens, address, { accessKey });
 * @throws {ServiceError} `BAD_REQUEST`, `INVALID_TOKEN`, `UNAUTHORIZED`.
 */
export async function authorizeSealed(
  accounts: AccountStore,
  tokens: TokenService | undefined,
  address: string,
  credentials: SealedCredentials,
): Promise<{ view: AccountView; grant: SealedGrant }> {
  const { accessKey, token } = credentials;
  if (accessKey !== undefined && token !== undefined) {
    throw new ServiceError('BAD_REQUEST', 'send either an access key or a token, not both');
  }
  if (token !== undefined) {
    if (!tokens) throw invalidToken();
    const verified = await tokens.verify(token);
    const view = await accounts.get(address);
    const mode = view && firstContactOf(view.account);
    if (!view || mode === 'contacts') throw notAuthorized();
    return {
      view,
      grant: mode === 'anyone' ? { kind: 'anyone' } : { kind: 'token', token: verified },
    };
  }
  const view = await accounts.get(address);
  const presented = accessKey === undefined ? undefined : tryFromBase64Url(accessKey);
  const keyOk =
    presented !== undefined &&
    presented.length === ACCESS_KEY_BYTES &&
    constantTimeEqual(sha256(presented), view?.account.accessKeyHash ?? UNKNOWN_RECIPIENT_HASH);
  if (!view) throw notAuthorized();
  if (keyOk) return { view, grant: { kind: 'accessKey' } };
  if (firstContactOf(view.account) === 'anyone') return { view, grant: { kind: 'anyone' } };
  throw notAuthorized();
}
