/**
 * Authentication of a WebSocket connect (docs/SERVICE.md §7.3): the owner signature of a `GET`
 * of `REALTIME_PATH` with an empty body, its five fields read from the connect URL's query
 * (`CONNECT_QUERY`) instead of headers. The same AuthService check as every owner request:
 * timestamp window, nonce replay protection, device signature, audience. Shared by the local
 * WebSocket server and the API Gateway `$connect` handler, as is the reading of the query's
 * one unsigned option, `payloads` (`connectOptions`).
 */
import { AUTH_HEADERS, CONNECT_QUERY } from 'sealpost/wire/api';
import type { AuthService, Caller } from '../domain/auth-service.ts';
import { ServiceError } from '../domain/errors.ts';
import type { ConnectionOptions } from '../domain/realtime-ports.ts';

const EMPTY = new Uint8Array(0);

/** Header name -> query parameter name of each signed field. */
const QUERY_OF: ReadonlyMap<string, string> = new Map([
  [AUTH_HEADERS.address, CONNECT_QUERY.address],
  [AUTH_HEADERS.device, CONNECT_QUERY.device],
  [AUTH_HEADERS.timestamp, CONNECT_QUERY.timestamp],
  [AUTH_HEADERS.nonce, CONNECT_QUERY.nonce],
  [AUTH_HEADERS.signature, CONNECT_QUERY.signature],
]);

type ConnectQuery = URLSearchParams | Readonly<Record<string, string | undefined>>;

const readQuery = (query: ConnectQuery, name: string): string | undefined =>
  query instanceof URLSearchParams ? (query.get(name) ?? undefined) : query[name];

/**
 * The frame format a connect asks for: `payloads=1` for message frames with shared payloads
 * (docs/SERVICE.md §7.3). Not signed: it only selects how the device's own messages are
 * framed. Any other value is refused, as `GET /v1/messages` refuses one.
 *
 * @throws {ServiceError} `BAD_REQUEST` for a `payloads` value other than `1`.
 * @example connectOptions(new URLSearchParams('payloads=1')) // { payloads: true }
 */
export function connectOptions(query: ConnectQuery): ConnectionOptions {
  const payloads = readQuery(query, CONNECT_QUERY.payloads);
  if (payloads === undefined) return {};
  if (payloads !== '1') throw new ServiceError('BAD_REQUEST', 'invalid query payloads: must be 1');
  return { payloads: true };
}

/**
 * The device a connect request authenticates, from the request's path and query.
 *
 * @throws {ServiceError} `UNAUTHORIZED` for a wrong path or any missing, malformed, replayed or
 *   badly signed field; `CLOCK_SKEW` for a timestamp outside the window (as `authenticate`).
 * @example const caller = await authenticateConnect(services.auth, '/v1/websocket', url.searchParams);
 */
export function authenticateConnect(
  auth: AuthService,
  path: string,
  query: ConnectQuery,
): Promise<Caller> {
  const read = (name: string): string | undefined => readQuery(query, name);
  return auth.authenticate({
    method: 'GET',
    // The path the connect went to is what is verified: a signature made for REALTIME_PATH
    // (the only WebSocket route) is valid nowhere else, and the query is not signed.
    pathAndQuery: path,
    body: EMPTY,
    header: (name) => {
      const param = QUERY_OF.get(name);
      return param === undefined ? undefined : read(param);
    },
  });
}
