/**
 * Error responses: `{"error": {"code", "message"}}` with the status from the one code→status
 * table, `API_ERROR_STATUS` in sdk/wire/api/errors.ts (docs/SERVICE.md §Errors).
 * Unknown failures become a bare 500 whose body says nothing about the cause.
 */
import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { API_ERROR_STATUS, type ApiErrorBody, type ApiErrorCode } from 'sealpost/wire/api';
import {
  ClockSkewError,
  DeviceIdTakenError,
  DeviceMismatchError,
  MultiRecipientError,
  ServiceError,
  StaleDevicesError,
} from '../domain/errors.ts';
import type { AppEnv } from './env.ts';

/**
 * The JSON body and status of an error code.
 *
 * @example errorResponse(c, 'NOT_FOUND', 'no such route')
 */
export function errorResponse(
  c: Context<AppEnv>,
  code: ApiErrorCode,
  message: string,
  details: Omit<ApiErrorBody['error'], 'code' | 'message'> = {},
): Response {
  c.set('errorCode', code);
  const body: ApiErrorBody = { error: { code, message, ...details } };
  return c.json(body, API_ERROR_STATUS[code] as ContentfulStatusCode);
}

/** `app.onError`: domain errors by code, everything else a 500 (logged by name only). */
export function onError(err: Error, c: Context<AppEnv>): Response {
  if (err instanceof DeviceMismatchError) {
    return errorResponse(c, err.code, err.message, {
      missing: [...err.missing],
      extra: [...err.extra],
    });
  }
  if (err instanceof StaleDevicesError) {
    return errorResponse(c, err.code, err.message, { stale: [...err.stale] });
  }
  if (err instanceof MultiRecipientError) {
    const accounts = err.accounts.map((a) => structuredClone(a));
    return errorResponse(c, err.code, err.message, { accounts });
  }
  if (err instanceof ClockSkewError) {
    return errorResponse(c, err.code, err.message, { serverTime: err.serverTime });
  }
  if (err instanceof DeviceIdTakenError) {
    return errorResponse(c, err.code, err.message, { freeDeviceIds: [...err.freeDeviceIds] });
  }
  if (err instanceof ServiceError) return errorResponse(c, err.code, err.message);
  return errorResponse(c, 'INTERNAL', 'internal error');
}
