/**
 * `GET /openapi.json`: an OpenAPI 3.1 document generated from the route table and valibot
 * schemas in sdk/wire/api, the same objects the server validates with, so the document cannot
 * drift from the behaviour (docs/SERVICE.md §1, §2). Bodies are named component schemas; every
 * header a route reads is declared; public routes say so with `security: []`. A unit test runs
 * a linter's recommended rules over it. Built once per process.
 */
import { type JsonSchema, toJsonSchema, toJsonSchemaDefs } from '@valibot/to-json-schema';
import {
  ACCESS_KEY_HEADER,
  ACCOUNT_SIGNATURE_HEADER,
  API_ERROR_STATUS,
  type ApiErrorCode,
  AUTH_HEADERS,
  isOperationId,
  isPathParamName,
  MAX_BODY_BYTES,
  MULTI_RECIPIENT_CONTENT_TYPE,
  PATH_PARAMS,
  ROUTE_SUMMARIES,
  ROUTES,
  type RouteSpec,
  TOKEN_HEADER,
} from 'sealpost/wire/api';
import type { GenericSchema } from 'valibot';
import { COMPONENT_SCHEMAS, errorSchema } from './openapi-components.ts';

const GENERIC_ERRORS: readonly ApiErrorCode[] = [
  'BAD_REQUEST',
  'PAYLOAD_TOO_LARGE',
  'UNSUPPORTED_MEDIA_TYPE',
  'INTERNAL',
  'UNAVAILABLE',
];

const SCHEMA_REF = '#/components/schemas/';

// `check` actions (canonical base64url, unique device ids) have no JSON Schema form; the
// length and pattern constraints around them are still emitted. `output` reads text query and
// path parameters as the integers they become.
const CONFIG = {
  errorMode: 'ignore',
  target: 'draft-2020-12',
  typeMode: 'output',
  overrideRef: ({ referenceId }: { referenceId: string }) => `${SCHEMA_REF}${referenceId}`,
} as const;

const NAME_OF = new Map<GenericSchema, string>(
  Object.entries(COMPONENT_SCHEMAS).map(([name, schema]) => [schema, name]),
);

function stripDialect(schema: JsonSchema): JsonSchema {
  const { $schema: _dialect, ...rest } = schema;
  return rest;
}

/** A `$ref` to the named component of `schema`, else the schema inline (with refs inside). */
function schemaOf(schema: GenericSchema): JsonSchema {
  const name = NAME_OF.get(schema);
  if (name) return { $ref: `${SCHEMA_REF}${name}` };
  const { $defs: _defs, ...inline } = stripDialect(
    toJsonSchema(schema, { ...CONFIG, definitions: COMPONENT_SCHEMAS }),
  );
  return inline;
}

const headerRef = (name: string) => ({ $ref: `#/components/parameters/${name}` });

/** The owner-signature headers besides the signature itself (a security scheme). */
const OWNER_HEADERS = {
  OwnerAddress: {
    name: AUTH_HEADERS.address,
    description: 'Account address of the signing device',
    schema: { type: 'string', pattern: '^[a-z2-7]{32}$' },
  },
  OwnerDevice: {
    name: AUTH_HEADERS.device,
    description: 'Device id of the signing device (decimal)',
    schema: { type: 'string', pattern: '^[1-9][0-9]{0,9}$' },
  },
  OwnerTimestamp: {
    name: AUTH_HEADERS.timestamp,
    description:
      'Signing time, ms since the epoch (decimal); outside ±5 minutes of the server clock is 401 CLOCK_SKEW with serverTime',
    schema: { type: 'string', pattern: '^(0|[1-9][0-9]{0,15})$' },
  },
  OwnerNonce: {
    name: AUTH_HEADERS.nonce,
    description: '16 random bytes (base64url), accepted once',
    schema: { type: 'string', pattern: '^[A-Za-z0-9_-]{22}$' },
  },
} as const;

function parameters(route: RouteSpec): unknown[] {
  const params: unknown[] = [];
  for (const [, name] of route.path.matchAll(/\{(\w+)\}/g)) {
    if (name === undefined || !isPathParamName(name)) continue;
    params.push({
      name,
      in: 'path',
      required: true,
      schema: stripDialect(toJsonSchema(PATH_PARAMS[name], CONFIG)),
    });
  }
  if (route.auth === 'owner') {
    for (const name of Object.keys(OWNER_HEADERS)) params.push(headerRef(name));
  }
  if (route.accountCoSignature) params.push(headerRef('AccountSignature'));
  const query = toJsonSchema(route.query, CONFIG);
  const required = new Set(query.required ?? []);
  for (const [name, schema] of Object.entries(query.properties ?? {})) {
    params.push({ name, in: 'query', required: required.has(name), schema });
  }
  return params;
}

function describeErrors(codes: readonly ApiErrorCode[]): string {
  return `Error ${codes.join(', ')} (docs/SERVICE.md §10)`;
}

function responses(route: RouteSpec): Record<string, unknown> {
  const byStatus = new Map<number, ApiErrorCode[]>();
  for (const code of new Set([...route.errors, ...GENERIC_ERRORS])) {
    const status = API_ERROR_STATUS[code];
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  const out: Record<string, unknown> = {
    '200': {
      description: 'OK',
      content: { 'application/json': { schema: schemaOf(route.response) } },
    },
  };
  for (const [status, codes] of [...byStatus].sort(([a], [b]) => a - b)) {
    out[String(status)] = {
      description: describeErrors(codes),
      content: { 'application/json': { schema: { $ref: `${SCHEMA_REF}Error` } } },
    };
  }
  return out;
}

/** A route whose body is binary (`BINARY_BODY`): the multi-recipient sends. */
const isBinary = (route: RouteSpec): boolean => route.request.type === 'instance';

function security(route: RouteSpec): unknown[] {
  if (route.auth === 'owner') return [{ ownerSignature: [] }];
  // A multi-recipient send carries one authorization per account inside its body
  // (docs/PROTOCOL.md §14.5): no header authorizes it.
  if (isBinary(route)) return [];
  // Sealed send and bundle fetch: the recipient's access key, or an anonymous token (message
  // requests), or nothing for a recipient that takes anyone's (docs/SERVICE.md §15.1). The
  // sealed device-list read takes no token (§15.6).
  if (route.auth === 'accessKey') {
    return route.noToken
      ? [{ accessKey: [] }, {}]
      : [{ accessKey: [] }, { anonymousToken: [] }, {}];
  }
  // Public, or proven by the account key's signature in the body (docs/SERVICE.md §3.2).
  return [];
}

/** The summary of an operation of the route table. */
function summaryOf(operationId: string): string {
  if (!isOperationId(operationId)) throw new Error(`no such operation: ${operationId}`);
  return ROUTE_SUMMARIES[operationId];
}

function operation(route: RouteSpec & { operationId: string }): Record<string, unknown> {
  const op: Record<string, unknown> = {
    operationId: route.operationId,
    summary: summaryOf(route.operationId),
    security: security(route),
    parameters: parameters(route),
    responses: responses(route),
  };
  if (isBinary(route)) {
    op['requestBody'] = {
      required: true,
      description: `The binary multi-recipient request of docs/PROTOCOL.md §14.4 (at most ${MAX_BODY_BYTES} bytes): version, request id, per account its address, authorization and per-device headers, then the shared payload.`,
      content: {
        [MULTI_RECIPIENT_CONTENT_TYPE]: { schema: { type: 'string', format: 'binary' } },
      },
    };
  } else if (route.request.type !== 'undefined') {
    op['requestBody'] = {
      required: true,
      content: { 'application/json': { schema: schemaOf(route.request) } },
    };
  }
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
  const schemas: Record<string, unknown> = {};
  for (const [name, schema] of Object.entries(toJsonSchemaDefs(COMPONENT_SCHEMAS, CONFIG))) {
    schemas[name] = stripDialect(schema);
  }
  const headerParameters: Record<string, unknown> = {};
  for (const [key, header] of Object.entries(OWNER_HEADERS)) {
    headerParameters[key] = { in: 'header', required: true, ...header };
  }
  headerParameters['AccountSignature'] = {
    name: ACCOUNT_SIGNATURE_HEADER,
    in: 'header',
    required: false,
    description:
      'Ed25519 signature by the account key over accountRequestPayload (base64url, 64 bytes); required to act on another device',
    schema: { type: 'string', pattern: '^[A-Za-z0-9_-]{86}$' },
  };
  cached = {
    openapi: '3.1.0',
    info: {
      title: 'Sealpost mailbox API',
      version: '1',
      description:
        'End-to-end encrypted mailbox. Byte fields are unpadded base64url. See docs/SERVICE.md.',
      license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
    },
    servers: [{ url: '/', description: 'The deployment that serves this document' }],
    paths,
    components: {
      schemas: { ...schemas, Error: errorSchema },
      parameters: headerParameters,
      securitySchemes: {
        ownerSignature: {
          type: 'apiKey',
          in: 'header',
          name: AUTH_HEADERS.signature,
          description: `Ed25519 device signature (base64url, 64 bytes) over a payload naming this deployment's trust root, the method, path and query, body hash and the ${AUTH_HEADERS.address}, ${AUTH_HEADERS.device}, ${AUTH_HEADERS.timestamp} and ${AUTH_HEADERS.nonce} headers (docs/SERVICE.md §3.1).`,
        },
        accessKey: {
          type: 'apiKey',
          in: 'header',
          name: ACCESS_KEY_HEADER,
          description:
            "The recipient's 16-byte delivery access key (base64url); omitted for an unrestricted recipient (docs/SERVICE.md §3.3).",
        },
        anonymousToken: {
          type: 'apiKey',
          in: 'header',
          name: TOKEN_HEADER,
          description:
            'An anonymous token (base64url of a 354-byte Privacy Pass token, type 0x0002) for a recipient that takes message requests, instead of the access key; never with it (docs/SERVICE.md §15).',
        },
      },
    },
  };
  return cached;
}
