/**
 * `GET /openapi.json`: an OpenAPI 3.1 document generated from the route table and valibot
 * schemas in sdk/wire/api, the same objects the server validates with, so the document cannot
 * drift from the behaviour. Built once per process.
 */
import { toJsonSchema } from '@valibot/to-json-schema';
import {
  ACCESS_KEY_HEADER,
  ACCOUNT_SIGNATURE_HEADER,
  API_ERROR_STATUS,
  type ApiErrorCode,
  AUTH_HEADERS,
  ROUTES,
  type RouteSpec,
} from 'sealpost/wire/api';
import type { GenericSchema } from 'valibot';

const GENERIC_ERRORS: readonly ApiErrorCode[] = [
  'BAD_REQUEST',
  'PAYLOAD_TOO_LARGE',
  'UNSUPPORTED_MEDIA_TYPE',
  'INTERNAL',
  'UNAVAILABLE',
];

// `check` actions (canonical base64url, unique device ids) have no JSON Schema form; the
// length and pattern constraints around them are still emitted.
const jsonSchema = (s: GenericSchema) => toJsonSchema(s, { errorMode: 'ignore' });

const errorSchema = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: {
        code: { type: 'string', enum: Object.keys(API_ERROR_STATUS) },
        message: { type: 'string' },
        missing: { type: 'array', items: { type: 'integer' } },
        extra: { type: 'array', items: { type: 'integer' } },
        stale: { type: 'array', items: { type: 'integer' } },
        serverTime: {
          type: 'integer',
          description: 'CLOCK_SKEW only: the server clock, ms since the epoch',
        },
        freeDeviceIds: {
          type: 'array',
          items: { type: 'integer' },
          description: 'DEVICE_ID_TAKEN only: ids the device may ask for instead',
        },
      },
    },
  },
};

function parameters(route: RouteSpec): unknown[] {
  const params: unknown[] = [];
  for (const [, name] of route.path.matchAll(/\{(\w+)\}/g)) {
    const schema =
      name === 'address'
        ? { type: 'string', pattern: '^[a-z2-7]{32}$' }
        : { type: 'string', pattern: '^[1-9][0-9]{0,9}$' };
    params.push({ name, in: 'path', required: true, schema });
  }
  if (route.accountCoSignature) {
    params.push({
      name: ACCOUNT_SIGNATURE_HEADER,
      in: 'header',
      required: false,
      description:
        'Ed25519 signature by the account key over accountRequestPayload (base64url, 64 bytes); required to act on another device',
      schema: { type: 'string', pattern: '^[A-Za-z0-9_-]{86}$' },
    });
  }
  if (route.query) {
    const q = jsonSchema(route.query) as { properties?: Record<string, unknown> };
    for (const [name, schema] of Object.entries(q.properties ?? {})) {
      params.push({ name, in: 'query', required: false, schema });
    }
  }
  return params;
}

function operation(route: RouteSpec): Record<string, unknown> {
  const responses: Record<string, unknown> = {
    '200': {
      description: 'OK',
      content: { 'application/json': { schema: jsonSchema(route.response) } },
    },
  };
  for (const code of [...route.errors, ...GENERIC_ERRORS]) {
    const status = String(API_ERROR_STATUS[code]);
    const existing = responses[status] as { description: string } | undefined;
    responses[status] = {
      description: existing ? `${existing.description}, ${code}` : code,
      content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
    };
  }
  const op: Record<string, unknown> = {
    operationId: route.operationId,
    summary: route.summary,
    parameters: parameters(route),
    responses,
  };
  if (route.request) {
    op['requestBody'] = {
      required: true,
      content: { 'application/json': { schema: jsonSchema(route.request) } },
    };
  }
  if (route.auth === 'owner') op['security'] = [{ ownerSignature: [] }];
  if (route.auth === 'accessKey') op['security'] = [{ accessKey: [] }, {}];
  return op;
}

let cached: Record<string, unknown> | undefined;

/**
 * The OpenAPI document of API v1.
 *
 * @example openApiDocument().paths['/v1/messages']
 */
export function openApiDocument(): Record<string, unknown> {
  if (cached) return cached;
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of ROUTES) {
    paths[route.path] ??= {};
    paths[route.path]![route.method.toLowerCase()] = operation(route);
  }
  cached = {
    openapi: '3.1.0',
    info: {
      title: 'Sealpost mailbox API',
      version: '1',
      description:
        'End-to-end encrypted mailbox. Byte fields are unpadded base64url. See docs/SERVICE.md.',
    },
    paths,
    components: {
      schemas: { Error: errorSchema },
      securitySchemes: {
        ownerSignature: {
          type: 'apiKey',
          in: 'header',
          name: AUTH_HEADERS.signature,
          description: `Ed25519 device signature over a payload naming this deployment's trust root (docs/SERVICE.md §3.1); also requires ${AUTH_HEADERS.address}, ${AUTH_HEADERS.device}, ${AUTH_HEADERS.timestamp} and ${AUTH_HEADERS.nonce}. A timestamp outside ±5 minutes is 401 CLOCK_SKEW with serverTime.`,
        },
        accessKey: { type: 'apiKey', in: 'header', name: ACCESS_KEY_HEADER },
      },
    },
  };
  return cached;
}
