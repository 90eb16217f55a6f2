/**
 * What a send must pass before anything is stored or spent (docs/SERVICE.md §7.1, §7.5): the
 * device-list rule of every send, and the per-account checks of a multi-recipient send
 * (docs/PROTOCOL.md §14.5), each run over all accounts so one answer names every account that
 * failed it.
 */
import {
  decodeMultiRecipientRequest,
  type MultiRecipientAccount,
  type MultiRecipientRequest,
} from 'sealpost/wire';
import { type MultiRecipientAccountError, toBase64Url } from 'sealpost/wire/api';
import { hex } from './crypto.ts';
import {
  DeviceMismatchError,
  MultiRecipientError,
  ServiceError,
  StaleDevicesError,
} from './errors.ts';
import { mapLimited } from './map-limited.ts';
import type { AccountStore, AccountView, DeviceRecord } from './ports.ts';
import { registrationIdOf } from './records.ts';
import { authorizeSealed, type SealedCredentials, type SealedGrant } from './sealed-access.ts';
import type { TokenService } from './token-service.ts';

/** Account reads and token spends in flight per request (a request names up to 256 accounts). */
const ACCOUNT_CONCURRENCY = 16;

/**
 * Signal's multi-device rule: a send lists exactly the active devices (409 with `missing` and
 * `extra`, checked first), and an envelope that names a registration id must be for the device
 * that holds its id now (410 with `stale`: the id was reused by a new device). `exclude` is the
 * sending device of an identified send to its own account: it is not a target, so it is never
 * `missing` and listing it is `extra`. Returns the listed devices in request order.
 *
 * @example const devices = checkDevices(view, req.envelopes);
 * @throws {DeviceMismatchError} `DEVICE_MISMATCH`; {@link StaleDevicesError} `STALE_DEVICES`.
 */
export function checkDevices(
  view: AccountView,
  listed: readonly { deviceId: number; registrationId?: number | undefined }[],
  exclude?: number,
): DeviceRecord[] {
  const active = new Map(
    view.devices.filter((d) => d.deviceId !== exclude).map((d) => [d.deviceId, d]),
  );
  const requested = new Set(listed.map((e) => e.deviceId));
  const byId = (a: number, b: number) => a - b;
  const missing = [...active.keys()].filter((id) => !requested.has(id)).sort(byId);
  const extra = listed
    .map((e) => e.deviceId)
    .filter((id) => !active.has(id))
    .sort(byId);
  if (missing.length > 0 || extra.length > 0) throw new DeviceMismatchError(missing, extra);
  const devices = listed.map((e) => active.get(e.deviceId)!);
  const stale = listed
    .filter(
      (e, i) =>
        e.registrationId !== undefined &&
        e.registrationId !== registrationIdOf(devices[i]!.identity),
    )
    .map((e) => e.deviceId)
    .sort(byId);
  if (stale.length > 0) throw new StaleDevicesError(stale);
  return devices;
}

/**
 * Decodes a multi-recipient request body (docs/PROTOCOL.md §14.4) with the SDK's decoder, so
 * both sides apply one set of rules. The decoder's message names the field and the rule, never
 * a byte of the body.
 *
 * @example const request = decodeMultiRecipientBody(bytes);
 * @throws {ServiceError} `BAD_REQUEST` for any body the decoder refuses.
 */
export function decodeMultiRecipientBody(bytes: Uint8Array): MultiRecipientRequest {
  try {
    return decodeMultiRecipientRequest(bytes);
  } catch (err) {
    const code = (err as { code?: unknown } | null)?.code;
    if (code === 'MALFORMED_ENVELOPE' || code === 'UNSUPPORTED_VERSION') {
      throw new ServiceError('BAD_REQUEST', `invalid body: ${(err as Error).message}`);
    }
    throw err;
  }
}

/** An account of a multi-recipient send that passed authorization. */
export interface AuthorizedAccount {
  readonly view: AccountView;
  readonly grant: SealedGrant;
}

function credentialsOf(account: MultiRecipientAccount): SealedCredentials {
  switch (account.auth.kind) {
    case 'accessKey':
      return { accessKey: toBase64Url(account.auth.accessKey) };
    case 'token':
      return { token: toBase64Url(account.auth.token) };
    default:
      return {};
  }
}

/** A refusal whose code is one of `codes`, or undefined for anything else. */
function refusalCode<C extends string>(err: unknown, codes: readonly C[]): C | undefined {
  if (!(err instanceof ServiceError)) return undefined;
  return (codes as readonly string[]).includes(err.code) ? (err.code as C) : undefined;
}

/**
 * The first code of `order` that some account failed with, and those accounts in request
 * order; nothing when no account failed.
 */
function firstRefusal<C extends string>(
  accounts: readonly MultiRecipientAccount[],
  failed: readonly (C | undefined)[],
  order: readonly C[],
): { code: C; accounts: MultiRecipientAccountError[] } | undefined {
  for (const code of order) {
    const named = accounts
      .filter((_, i) => failed[i] === code)
      .map((a) => ({ address: a.address }));
    if (named.length > 0) return { code, accounts: named };
  }
  return undefined;
}

/**
 * Check 1 of a multi-recipient send (docs/PROTOCOL.md §14.5): every account's authorization,
 * exactly as a sealed send to it checks its one (`authorizeSealed`: an access key, a token that
 * verifies, or nothing for an account that takes anyone's). A token is verified here and spent
 * only by {@link redeemTokens}, after the device lists matched.
 *
 * @example const authorized = await authorizeAccounts(accounts, tokens, request.accounts);
 * @throws {MultiRecipientError} `INVALID_TOKEN` naming every account whose token does not
 *   verify (first, as a sealed send checks the token before the recipient), else `UNAUTHORIZED`
 *   naming every account that refused (an unknown account answers like a wrong key).
 */
export async function authorizeAccounts(
  store: AccountStore,
  tokens: TokenService | undefined,
  accounts: readonly MultiRecipientAccount[],
): Promise<AuthorizedAccount[]> {
  const codes = ['INVALID_TOKEN', 'UNAUTHORIZED'] as const;
  const results = await mapLimited(accounts, ACCOUNT_CONCURRENCY, async (account) => {
    try {
      return await authorizeSealed(store, tokens, account.address, credentialsOf(account));
    } catch (err) {
      const code = refusalCode(err, codes);
      if (code === undefined) throw err;
      return code;
    }
  });
  const refused = firstRefusal(
    accounts,
    results.map((r) => (typeof r === 'string' ? r : undefined)),
    codes,
  );
  if (refused) {
    const message =
      refused.code === 'INVALID_TOKEN'
        ? 'a token is not valid here'
        : 'not authorized to send to every recipient';
    throw new MultiRecipientError(refused.code, message, refused.accounts);
  }
  return results as AuthorizedAccount[];
}

/**
 * Check 2 of a multi-recipient send: every account's device list ({@link checkDevices}), the
 * `exclude`d device not being a target (the identified variant's own device). Returns each
 * account's listed devices in request order.
 *
 * @example const devices = checkDeviceLists(request.accounts, views);
 * @throws {MultiRecipientError} `DEVICE_MISMATCH` naming every account whose list is not its
 *   active devices (with `missing` and `extra`), else `STALE_DEVICES` naming every account
 *   with replaced devices (with `stale`).
 */
export function checkDeviceLists(
  accounts: readonly MultiRecipientAccount[],
  views: readonly AccountView[],
  exclude?: number,
): DeviceRecord[][] {
  const mismatched: MultiRecipientAccountError[] = [];
  const stale: MultiRecipientAccountError[] = [];
  const devices = accounts.map((account, i) => {
    try {
      return checkDevices(views[i]!, account.devices, exclude);
    } catch (err) {
      const { address } = account;
      if (err instanceof DeviceMismatchError) {
        mismatched.push({ address, missing: [...err.missing], extra: [...err.extra] });
      } else if (err instanceof StaleDevicesError) {
        stale.push({ address, stale: [...err.stale] });
      } else {
        throw err;
      }
      return [];
    }
  });
  if (mismatched.length > 0) {
    throw new MultiRecipientError(
      'DEVICE_MISMATCH',
      'the device lists do not match these recipients',
      mismatched,
    );
  }
  if (stale.length > 0) {
    throw new MultiRecipientError(
      'STALE_DEVICES',
      'the device lists name devices that were replaced',
      stale,
    );
  }
  return devices;
}

/**
 * Check 3 of a multi-recipient send: spends the token of every account authorized by one,
 * each bound to the request id as a sealed send's (docs/SERVICE.md §15.3), so a retry of the
 * request passes again without spending anything. One token pays for one account: an account
 * presenting a token another account of the request presents too is `TOKEN_SPENT`. A refusal
 * leaves the other accounts' tokens spent for this request id, which its corrected retry (same
 * id) passes with.
 *
 * @example await redeemTokens(tokens, request.accounts, authorized, request.requestId);
 * @throws {MultiRecipientError} `TOKEN_SPENT`, else `REQUEST_LIMIT`, naming those accounts.
 */
export async function redeemTokens(
  tokens: TokenService | undefined,
  accounts: readonly MultiRecipientAccount[],
  authorized: readonly AuthorizedAccount[],
  requestId: Uint8Array,
): Promise<void> {
  if (!tokens || !authorized.some((a) => a.grant.kind === 'token')) return;
  const codes = ['TOKEN_SPENT', 'REQUEST_LIMIT'] as const;
  const seen = new Set<string>();
  const failed = await mapLimited(accounts, ACCOUNT_CONCURRENCY, async (account, i) => {
    const grant = authorized[i]!.grant;
    if (grant.kind !== 'token') return undefined;
    const id = hex(grant.token.id);
    if (seen.has(id)) return 'TOKEN_SPENT';
    seen.add(id);
    try {
      await tokens.redeem(grant.token, account.address, requestId);
      return undefined;
    } catch (err) {
      const code = refusalCode(err, codes);
      if (code === undefined) throw err;
      return code;
    }
  });
  const refused = firstRefusal(accounts, failed, codes);
  if (refused) {
    const message =
      refused.code === 'TOKEN_SPENT'
        ? 'a token was redeemed already'
        : 'a recipient takes no more message requests today';
    throw new MultiRecipientError(refused.code, message, refused.accounts);
  }
}
