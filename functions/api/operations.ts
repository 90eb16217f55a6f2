/**
 * Routes derived from the route table (`sdk/wire/api/routes.ts`, docs/SERVICE.md §2): one
 * handler per operation id, mounted at the table's method and path, behind owner
 * authentication when the table says `owner`, with the body, query and path parameters read
 * by the table's schemas. A handler only calls its service; what it returns must have the
 * type of the operation's response schema, so the server cannot drift from the contract the
 * client parses with.
 */
import type { Context, Hono } from 'hono';
import {
  colonPath,
  isPathParamName,
  OPERATION_IDS,
  type OperationId,
  PATH_PARAMS,
  type PathParamOf,
  type QueryOf,
  type RequestOf,
  type ResponseOf,
  ROUTE_TABLE,
} from 'sealpost/wire/api';
import type * as v from 'valibot';
import type { AppEnv } from './env.ts';
import { pathParam, queryParams, requestBody } from './middleware/body.ts';
import { ownerAuth } from './middleware/owner-auth.ts';

/** What a handler receives besides the context: the validated input of its operation. */
export interface OperationInput<Op extends OperationId> {
  /** A path parameter, validated and typed by `PATH_PARAMS` (`deviceId` is a number). */
  param<K extends PathParamOf<Op>>(name: K): v.InferOutput<(typeof PATH_PARAMS)[K]>;
  /** The validated JSON body (`undefined` for a route that takes none). */
  readonly body: RequestOf<Op>;
  /** The validated query parameters. */
  readonly query: QueryOf<Op>;
}

/** The handler of one operation. */
export type OperationHandler<Op extends OperationId> = (
  c: Context<AppEnv>,
  input: OperationInput<Op>,
) => ResponseOf<Op> | Promise<ResponseOf<Op>>;

/** One handler for every operation of the table (a missing one does not compile). */
export type OperationHandlers = { readonly [Op in OperationId]: OperationHandler<Op> };

/**
 * Mounts one operation on `app`.
 *
 * @example mountOperation(app, 'health', () => ({ status: 'ok' }));
 */
export function mountOperation<Op extends OperationId>(
  app: Hono<AppEnv>,
  op: Op,
  handler: OperationHandler<Op>,
): void {
  const route = ROUTE_TABLE[op];
  const path = colonPath(route.path);
  const names = [...route.path.matchAll(/\{(\w+)\}/g)].flatMap(([, n]) =>
    n !== undefined && isPathParamName(n) ? [n] : [],
  );
  const run = async (c: Context<AppEnv>) => {
    // Path parameters first, in path order, then the body, then the query.
    for (const name of names) pathParam(c, name, PATH_PARAMS[name]);
    const input: OperationInput<Op> = {
      param: (name) => pathParam(c, name, PATH_PARAMS[name]),
      body: requestBody(c, route.request),
      query: queryParams(c, route.query),
    };
    return c.json(await handler(c, input));
  };
  if (route.auth === 'owner') app.on(route.method, path, ownerAuth(), run);
  else app.on(route.method, path, run);
}

/**
 * Mounts every operation of the table, in table order.
 *
 * @example mountOperations(app, { ...metaHandlers, ...accountHandlers, ... });
 */
export function mountOperations(app: Hono<AppEnv>, handlers: OperationHandlers): void {
  const mount = <Op extends OperationId>(op: Op) => mountOperation(app, op, handlers[op]);
  for (const op of OPERATION_IDS) mount(op);
}
