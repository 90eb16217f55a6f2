/**
 * Types derived from the route table (`./routes.ts`), so nothing about an operation is written
 * twice: its id, its path parameters (typed from the path template), its query, its request
 * body and its response all come from the one entry, and a parsed response has the type of the
 * schema it was parsed with.
 */
import type { InferOutput } from 'valibot';
import { ArgumentTypeError } from '../../util/argument-errors.ts';
import { PATH_PARAMS, ROUTE_TABLE } from './routes.ts';

/** Every operation id of the API (`'health' | 'registerAccount' | ...`). */
export type OperationId = keyof typeof ROUTE_TABLE;

/** The route table entry of one operation, with its literal method, path and schemas. */
export type RouteOf<Op extends OperationId> = (typeof ROUTE_TABLE)[Op];

/** What an operation answers with on success. */
export type ResponseOf<Op extends OperationId> = InferOutput<RouteOf<Op>['response']>;

/** An operation's JSON request body (`undefined` when it takes none). */
export type RequestOf<Op extends OperationId> = InferOutput<RouteOf<Op>['request']>;

/** An operation's query parameters as the server reads them (`{}` when it reads none). */
export type QueryOf<Op extends OperationId> = InferOutput<RouteOf<Op>['query']>;

/** The `{name}` placeholders of a path template, as a union of names. */
export type PathParamName<P extends string> = P extends `${string}{${infer N}}${infer Rest}`
  ? N | PathParamName<Rest>
  : never;

/** An operation's path parameters, typed by {@link PATH_PARAMS} (`deviceId` is a number). */
export type PathParams<Op extends OperationId> = {
  readonly [K in PathParamName<RouteOf<Op>['path']>]: K extends keyof typeof PATH_PARAMS
    ? InferOutput<(typeof PATH_PARAMS)[K]>
    : never;
};

/** The names of an operation's path parameters. */
export type PathParamOf<Op extends OperationId> = PathParamName<RouteOf<Op>['path']> &
  keyof typeof PATH_PARAMS;

/**
 * True if `name` is an operation id of the table.
 *
 * @example isOperationId('sendSealed') // true
 */
export function isOperationId(name: string): name is OperationId {
  return Object.hasOwn(ROUTE_TABLE, name);
}

/** Every operation id, in table order. */
export const OPERATION_IDS: readonly OperationId[] = Object.keys(ROUTE_TABLE).filter(isOperationId);

/**
 * True if `name` is a path parameter name of {@link PATH_PARAMS}.
 *
 * @example isPathParamName('deviceId') // true
 */
export function isPathParamName(name: string): name is keyof typeof PATH_PARAMS {
  return Object.hasOwn(PATH_PARAMS, name);
}

/**
 * The operation's route table entry.
 *
 * @example routeOf('sendSealed').method // 'PUT'
 */
export function routeOf<Op extends OperationId>(op: Op): RouteOf<Op> {
  return ROUTE_TABLE[op];
}

/**
 * The concrete path of an operation: every placeholder replaced by its URI-encoded value.
 *
 * @example fillPath('removeDevice', { deviceId: 2 }) // '/v1/devices/2'
 * @throws {ArgumentTypeError} if a parameter is missing.
 */
export function fillPath<Op extends OperationId>(op: Op, params: PathParams<Op>): string {
  const values: Readonly<Record<string, string | number | undefined>> = params;
  return ROUTE_TABLE[op].path.replace(/\{(\w+)\}/g, (_, name: string) => {
    const value = values[name];
    if (value === undefined) throw new ArgumentTypeError(`missing path parameter ${name}`);
    return encodeURIComponent(String(value));
  });
}

/**
 * A path template in the `:name` syntax of routers such as Hono.
 *
 * @example colonPath('/v1/devices/{deviceId}') // '/v1/devices/:deviceId'
 */
export function colonPath(template: string): string {
  return template.replace(/\{(\w+)\}/g, ':$1');
}
