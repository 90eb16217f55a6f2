/**
 * Request input: the raw body (size-limited while it streams), JSON bodies checked against
 * their valibot schema, and path/query parameters. Every violation is a 4xx JSON error;
 * messages name the field and the rule, never the value.
 */
import type { Context, MiddlewareHandler } from 'hono';
import {
  MAX_BODY_BYTES,
  MAX_SMALL_BODY_BYTES,
  MULTI_RECIPIENT_CONTENT_TYPE,
} from 'sealpost/wire/api';
import * as v from 'valibot';
import { ServiceError } from '../../domain/errors.ts';
import type { AppEnv } from '../env.ts';

const JSON_TYPE = /^application\/json\s*(;\s*charset=utf-8\s*)?$/i;
/** The one binary body type (a multi-recipient send, docs/PROTOCOL.md §14.4); no parameters. */
const BINARY_TYPE = MULTI_RECIPIENT_CONTENT_TYPE.toLowerCase();
const EMPTY = new Uint8Array(0);

function tooLarge(): ServiceError {
  return new ServiceError('PAYLOAD_TOO_LARGE', 'request body is too large');
}

/**
 * The body limit of a request: sends carry envelopes for every device (a multi-recipient send,
 * `PUT /v1/messages/multi*`, headers for up to 1,024 devices and the payload, at most
 * `MAX_MULTI_RECIPIENT_BYTES`, the same 2,200,000 bytes) and a report up to six revealed
 * messages (about 800 KB at most, docs/SERVICE.md §14.1); the rest is small.
 */
function limitFor(method: string, path: string): number {
  return (method === 'PUT' && path.startsWith('/v1/messages/')) ||
    (method === 'POST' && path === '/v1/reports')
    ? MAX_BODY_BYTES
    : MAX_SMALL_BODY_BYTES;
}

/**
 * True when a GET or HEAD request carries a body in any form. Both runtimes drop such a body
 * before the app sees it (`@hono/node-server` and `hono/aws-lambda` build a bodiless `Request`),
 * so the declared framing and the Lambda event are what is left to look at.
 */
function bodyOnBodilessMethod(c: Context<AppEnv>): boolean {
  if (c.req.method !== 'GET' && c.req.method !== 'HEAD') return false;
  const length = c.req.header('content-length');
  if (length !== undefined && length.trim() !== '0') return true;
  if (c.req.header('transfer-encoding') !== undefined) return true;
  const event = c.env?.event;
  return typeof event?.body === 'string' && event.body.length > 0;
}

/**
 * Reads the whole body into `c.var.rawBody`, refusing more than the route's limit before
 * buffering it (the declared length first, then the bytes actually streamed), and refusing
 * any body on GET and HEAD (docs/SERVICE.md §2: routes without a body refuse one).
 *
 * @throws {ServiceError} `PAYLOAD_TOO_LARGE`, `BAD_REQUEST` (a GET or HEAD with a body).
 */
export function rawBody(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    if (bodyOnBodilessMethod(c)) {
      throw new ServiceError('BAD_REQUEST', `${c.req.method} requests take no body`);
    }
    const max = limitFor(c.req.method, c.req.path);
    const declared = c.req.header('content-length');
    if (declared !== undefined && !(Number(declared) <= max)) throw tooLarge();
    const stream = c.req.raw.body;
    if (!stream) {
      c.set('rawBody', EMPTY);
      return next();
    }
    const chunks: Uint8Array[] = [];
    let size = 0;
    const reader = stream.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.length;
      if (size > max) {
        // Stop reading without cancelling: on Node a cancel destroys the socket before the
        // 413 is written; the server drains the rest instead (node-http.ts).
        reader.releaseLock();
        throw tooLarge();
      }
      chunks.push(value);
    }
    const body = new Uint8Array(size);
    let offset = 0;
    for (const chunk of chunks) {
      body.set(chunk, offset);
      offset += chunk.length;
    }
    c.set('rawBody', body);
    return next();
  };
}

function describe(issues: readonly v.BaseIssue<unknown>[]): string {
  const first = issues[0];
  if (!first) return 'invalid input';
  const path = v.getDotPath(first) ?? '(body)';
  const expected = first.expected ? ` (expected ${first.expected.slice(0, 80)})` : '';
  return `invalid field ${path.slice(0, 120)}: ${first.kind}${expected}`;
}

/**
 * Parses `c.var.rawBody` as JSON and validates it.
 *
 * @throws {ServiceError} `UNSUPPORTED_MEDIA_TYPE` unless `application/json`, `BAD_REQUEST` on
 *   malformed JSON or a schema violation.
 */
export function jsonBody<S extends v.GenericSchema>(
  c: Context<AppEnv>,
  schema: S,
): v.InferOutput<S> {
  const type = c.req.header('content-type');
  if (!type || !JSON_TYPE.test(type)) {
    throw new ServiceError('UNSUPPORTED_MEDIA_TYPE', 'content-type must be application/json');
  }
  let data: unknown;
  try {
    data = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(c.get('rawBody')));
  } catch {
    throw new ServiceError('BAD_REQUEST', 'body is not valid UTF-8 JSON');
  }
  const result = v.safeParse(schema, data);
  if (!result.success) throw new ServiceError('BAD_REQUEST', describe(result.issues));
  return result.output;
}

/**
 * The raw bytes of a binary body (a route whose schema is the route table's `BINARY_BODY`);
 * the handler decodes them.
 *
 * @throws {ServiceError} `UNSUPPORTED_MEDIA_TYPE` unless the content type is
 *   `application/vnd.sealpost.multi-recipient`, `BAD_REQUEST` for an empty body.
 */
export function binaryBody(c: Context<AppEnv>): Uint8Array {
  const type = c.req.header('content-type');
  if (type?.trim().toLowerCase() !== BINARY_TYPE) {
    throw new ServiceError(
      'UNSUPPORTED_MEDIA_TYPE',
      `content-type must be ${MULTI_RECIPIENT_CONTENT_TYPE}`,
    );
  }
  const body = c.get('rawBody');
  if (body.length === 0) throw new ServiceError('BAD_REQUEST', 'the body is empty');
  return body;
}

/**
 * Refuses a body on routes that take none (so nothing unsigned or unvalidated rides along).
 *
 * @throws {ServiceError} `BAD_REQUEST`.
 */
export function noBody(c: Context<AppEnv>): void {
  if (c.get('rawBody').length > 0)
    throw new ServiceError('BAD_REQUEST', 'this route takes no body');
}

/**
 * The request body of a route, by its schema from the route table: the route table's
 * `NO_BODY` (`v.undefined()`) refuses any body, `BINARY_BODY` (`v.instance(Uint8Array)`)
 * gives the raw bytes, every other schema reads JSON.
 *
 * @throws {ServiceError} as {@link jsonBody}, {@link binaryBody} and {@link noBody}.
 */
export function requestBody<S extends v.GenericSchema>(
  c: Context<AppEnv>,
  schema: S,
): v.InferOutput<S> {
  if (schema.type === 'instance') return v.parse(schema, binaryBody(c));
  if (schema.type !== 'undefined') return jsonBody(c, schema);
  noBody(c);
  return v.parse(schema, undefined);
}

/**
 * A validated path parameter.
 *
 * @throws {ServiceError} `BAD_REQUEST`.
 */
export function pathParam<S extends v.GenericSchema>(
  c: Context<AppEnv>,
  name: string,
  schema: S,
): v.InferOutput<S> {
  const result = v.safeParse(schema, c.req.param(name));
  if (!result.success) throw new ServiceError('BAD_REQUEST', `invalid path parameter ${name}`);
  return result.output;
}

/**
 * The validated query string (each parameter at most once).
 *
 * @throws {ServiceError} `BAD_REQUEST`.
 */
export function queryParams<S extends v.GenericSchema>(
  c: Context<AppEnv>,
  schema: S,
): v.InferOutput<S> {
  const all = c.req.queries();
  const flat: Record<string, string> = {};
  for (const [k, values] of Object.entries(all)) {
    if (values.length !== 1)
      throw new ServiceError('BAD_REQUEST', `query parameter ${k.slice(0, 40)} repeated`);
    flat[k] = values[0]!;
  }
  const result = v.safeParse(schema, flat);
  if (!result.success) throw new ServiceError('BAD_REQUEST', describe(result.issues));
  return result.output;
}
