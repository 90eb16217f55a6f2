/**
 * The WebSocket API's Lambda entry point (docs/SERVICE.md §7.3), one function for the routes
 * `$connect`, `$disconnect` and `$default`, over the same composition as the HTTP function
 * (functions/api/lambda.ts) plus the realtime ports.
 *
 * - `$connect` authenticates the owner signature carried in the connect URL's query
 *   (`authenticateConnect`, path `REALTIME_PATH`) and registers the connection with its frame
 *   format (`payloads=1`, `connectOptions`); any authentication failure refuses the upgrade
 *   with 401, an invalid `payloads` value with 400.
 * - `$default` hands each frame to `RealtimeService.onFrame`. API Gateway forbids posting to a
 *   connection before its `$connect` returns, so the queue cannot be drained on connect: a
 *   `ping` frame is answered with `pong` and then drains the queue. Clients send a `ping` right
 *   after the socket opens (and as their keep-alive, which redelivers what is still
 *   unacknowledged; delivery is at least once, deduplicated by message id).
 * - `$disconnect` removes the connection unless a newer one replaced it.
 * Every route answers 200 once the connection is accepted; failures are logged as counts only.
 */
import { ApiGatewayManagementApiClient } from '@aws-sdk/client-apigatewaymanagementapi';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { parseClientFrame, REALTIME_PATH } from 'sealpost/wire/api';
import { deploymentPorts } from '../adapters/aws-deployment.ts';
import { awsRealtimePorts, type RealtimePorts } from '../adapters/aws-ports.ts';
import { parseDeploymentEnv } from '../deployment.ts';
import type { AttachmentPorts } from '../domain/attachment-ports.ts';
import type { AuthService } from '../domain/auth-service.ts';
import { type ServiceConfig, withMessageTtlDays } from '../domain/config.ts';
import { ServiceError } from '../domain/errors.ts';
import type { ModerationPorts } from '../domain/moderation-ports.ts';
import type { Clock, Ports } from '../domain/ports.ts';
import { RealtimeService } from '../domain/realtime-service.ts';
import type { TokenPorts } from '../domain/token-ports.ts';
import { createServices, type WakeupOptions } from './compose.ts';
import type { AppServices } from './env.ts';
import { authenticateConnect, connectOptions } from './realtime-connect.ts';

/** The fields of an API Gateway WebSocket proxy event this handler reads. */
export interface WebSocketEvent {
  readonly requestContext: {
    readonly routeKey: string;
    readonly connectionId: string;
    readonly domainName?: string;
    readonly stage?: string;
  };
  readonly queryStringParameters?: Readonly<Record<string, string | undefined>> | null;
  readonly body?: string | null;
  readonly isBase64Encoded?: boolean;
}

/** The handler's answer; only `$connect`'s status reaches the client (101 or this one). */
export interface WebSocketResult {
  readonly statusCode: number;
}

/** A WebSocket route handler. */
export type WebSocketHandler = (event: WebSocketEvent) => Promise<WebSocketResult>;

/**
 * The services with a realtime notifier: the message service's hook pushes through a
 * RealtimeService that itself drains through that message service (bound late, as the two
 * depend on each other).
 *
 * @example const { services, realtime } = composeRealtime(ports, realtimePorts, { log });
 */
export function composeRealtime(
  ports: Ports,
  realtimePorts: RealtimePorts,
  options: {
    config?: ServiceConfig;
    clock?: Clock;
    log: (line: string) => void;
    /** Wake-ups of devices the realtime push did not reach (the HTTP function's). */
    wakeups?: WakeupOptions;
    /** Attachment transfer (the HTTP function's; docs/SERVICE.md §7.6). */
    attachments?: AttachmentPorts;
    /** Report intake and suspensions (the HTTP function's; docs/SERVICE.md §14). */
    moderation?: ModerationPorts;
    /** Anonymous tokens (the HTTP function's; docs/SERVICE.md §15). */
    tokens?: TokenPorts;
  },
): { services: AppServices; realtime: RealtimeService } {
  const clock = options.clock ?? Date.now;
  let realtime: RealtimeService | undefined;
  const services = createServices(ports, {
    clock,
    config: options.config,
    ...(options.wakeups ? { wakeups: options.wakeups } : {}),
    ...(options.attachments ? { attachments: options.attachments } : {}),
    ...(options.moderation ? { moderation: options.moderation } : {}),
    ...(options.tokens ? { tokens: options.tokens } : {}),
    log: options.log,
    notify: {
      notifier: {
        notify: async (mailbox, message, context) => realtime?.notify(mailbox, message, context),
        pushEarly: async (mailbox, message) =>
          (await realtime?.pushEarly(mailbox, message)) ?? 'offline',
      },
      log: options.log,
    },
  });
  realtime = new RealtimeService(
    realtimePorts.connections,
    realtimePorts.sender,
    ports.accounts,
    services.messages,
    clock,
  );
  return { services, realtime };
}

const OK: WebSocketResult = { statusCode: 200 };

/**
 * The route handler over built services.
 *
 * @example export const handler = createRealtimeHandler({ auth, realtime, log: console.log });
 */
export function createRealtimeHandler(deps: {
  auth: AuthService;
  realtime: RealtimeService;
  log: (line: string) => void;
}): WebSocketHandler {
  const { auth, realtime, log } = deps;
  const failed = (event: string) => log(JSON.stringify({ level: 'warn', event, count: 1 }));
  return async (event) => {
    const { routeKey, connectionId } = event.requestContext;
    if (routeKey === '$connect') {
      const query = event.queryStringParameters ?? {};
      let options: ReturnType<typeof connectOptions>;
      try {
        options = connectOptions(query);
      } catch {
        return { statusCode: 400 };
      }
      let caller: Awaited<ReturnType<typeof authenticateConnect>>;
      try {
        caller = await authenticateConnect(auth, REALTIME_PATH, query);
      } catch (err) {
        if (err instanceof ServiceError && err.code !== 'UNAVAILABLE') return { statusCode: 401 };
        failed('realtime_connect_failed');
        return { statusCode: 503 };
      }
      try {
        await realtime.connected(caller, connectionId, options);
        return OK;
      } catch {
        failed('realtime_connect_failed');
        return { statusCode: 503 };
      }
    }
    if (routeKey === '$disconnect') {
      await realtime.disconnected(connectionId).catch(() => failed('realtime_disconnect_failed'));
      return OK;
    }
    const text = event.isBase64Encoded
      ? Buffer.from(event.body ?? '', 'base64').toString('utf8')
      : (event.body ?? '');
    await realtime.onFrame(connectionId, text);
    const parsed = parseClientFrame(text);
    if (parsed.ok && parsed.frame.type === 'ping') {
      await realtime.drain(connectionId).catch(() => failed('realtime_drain_failed'));
    }
    return OK;
  };
}

/** Builds the handler from the deployment environment (once per container). */
function fromEnvironment(event: WebSocketEvent): WebSocketHandler {
  const deployment = parseDeploymentEnv(process.env);
  const { domainName, stage } = event.requestContext;
  const endpoint = deployment.websocketEndpoint ?? `https://${domainName}/${stage}`;
  const dynamodb = new DynamoDBClient({});
  const ports = deploymentPorts(deployment, dynamodb);
  const log = (line: string) => process.stdout.write(`${line}\n`);
  const management = new ApiGatewayManagementApiClient({ endpoint });
  const { services, realtime } = composeRealtime(
    ports,
    awsRealtimePorts({ dynamodb, table: deployment.table, management }),
    { config: withMessageTtlDays(deployment.messageTtlDays), log },
  );
  return createRealtimeHandler({ auth: services.auth, realtime, log });
}

let built: WebSocketHandler | undefined;

/** The Lambda entry point of the WebSocket API. */
export const handler: WebSocketHandler = (event) => {
  built ??= fromEnvironment(event);
  return built(event);
};
