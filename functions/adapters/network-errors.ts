/**
 * Socket failures the AWS SDK raises once its own retries are spent: a plain `Error` whose
 * `code` is the Node system error, not an AWS error name. They are transient (the service
 * answers 503, safe to retry), like throttling.
 */
const NETWORK_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN']);

/**
 * True for a socket-level failure (`ECONNRESET`, `ECONNREFUSED`, `EPIPE`, `ETIMEDOUT`,
 * `EAI_AGAIN`).
 *
 * @example if (isNetworkError(err)) throw new UnavailableError(undefined, { cause: err });
 */
export function isNetworkError(err: unknown): boolean {
  const code = err instanceof Error ? (err as { code?: unknown }).code : undefined;
  return typeof code === 'string' && NETWORK_CODES.has(code);
}
