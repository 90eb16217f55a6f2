/**
 * {@link ConnectionSender} over API Gateway's management API (docs/SERVICE.md §7.3): frames are
 * `PostToConnection` calls, a close is `DeleteConnection`. API Gateway cannot carry a WebSocket
 * close code (its close reaches the client as a plain close, code 1000/1001/1006 depending on the
 * client), so a close first posts a `close` frame carrying the `REALTIME_CLOSE` code and reason,
 * which clients treat exactly as that close code.
 */
import {
  type ApiGatewayManagementApiClient,
  DeleteConnectionCommand,
  PostToConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';
import { closeFrame, encodeFrame, isRealtimeCloseCode } from 'sealpost/wire/api';
import type { ConnectionSender } from '../../domain/realtime-ports.ts';

const encoder = new TextEncoder();

/** True for the management API's 410: the connection no longer exists. */
export function isGone(err: unknown): boolean {
  return err instanceof Error && err.name === 'GoneException';
}

/**
 * Frames over the management API of one WebSocket stage. The client must be built with the
 * stage's management endpoint, `https://{api-id}.execute-api.{region}.amazonaws.com/{stage}`.
 *
 * @example
 * const sender = new ApiGatewaySender(
 *   new ApiGatewayManagementApiClient({ endpoint: 'https://abc.execute-api.eu-west-1.amazonaws.com/dev' }),
 * );
 * await sender.send('Ab12=', '{"type":"pong"}'); // 'sent' or 'gone'
 */
export class ApiGatewaySender implements ConnectionSender {
  constructor(private readonly client: ApiGatewayManagementApiClient) {}

  /** @throws the management API's error for anything but a gone connection (throttling, IAM). */
  async send(connectionId: string, frameText: string): Promise<'sent' | 'gone'> {
    try {
      await this.client.send(
        new PostToConnectionCommand({
          ConnectionId: connectionId,
          Data: encoder.encode(frameText),
        }),
      );
      return 'sent';
    } catch (err) {
      if (isGone(err)) return 'gone';
      throw err;
    }
  }

  /**
   * Posts the `close` frame of `code` (best effort; none for a code outside `REALTIME_CLOSE`),
   * then deletes the connection; a connection that is already gone counts as closed.
   *
   * @throws the management API's error for anything but a gone connection.
   */
  async close(connectionId: string, code: number, reason: string): Promise<void> {
    if (isRealtimeCloseCode(code)) {
      const notice = encodeFrame(closeFrame(code, reason));
      await this.send(connectionId, notice).catch(() => 'gone');
    }
    try {
      await this.client.send(new DeleteConnectionCommand({ ConnectionId: connectionId }));
    } catch (err) {
      if (!isGone(err)) throw err;
    }
  }
}
