/**
 * The `web-push-testing` push service stand-in, in-process on a free loopback port: it hands
 * out subscriptions (`/subscribe`), verifies each push's VAPID signature and decrypts its
 * payload with the subscription's keys, stores what it decrypted (`/get-notifications`), and
 * answers 410 for a subscription expired through `/expire-subscription`. Its own `startServer`
 * is not used (it logs and exits the process on errors); its Express app is served here, with
 * a count of the push requests that reached it, whatever the stand-in answered.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';

const require = createRequire(import.meta.url);

/** The parts of web-push-testing's model and server this helper uses (the package is untyped). */
interface PushApiModel {
  notifyUrl: string;
}
interface StandInServer {
  setRequestHandlers(): void;
  readonly _app: (req: IncomingMessage, res: ServerResponse) => void;
}
const { PushApiModel } = require('web-push-testing/src/PushApiModel.js') as {
  PushApiModel: new () => PushApiModel;
};
const WebPushTestingServer = require('web-push-testing/src/server.js') as new (
  model: PushApiModel,
  port: number,
) => StandInServer;

/** A subscription as the stand-in hands it out (the browser's `toJSON()` shape, plus its id). */
export interface StandInSubscription {
  readonly endpoint: string;
  readonly keys: { readonly p256dh: string; readonly auth: string };
  readonly clientHash: string;
}

/** A running stand-in. */
export interface PushStandIn {
  readonly url: string;
  /** Subscribes a new client to `applicationServerKey` (base64url VAPID public key). */
  subscribe(applicationServerKey: string): Promise<StandInSubscription>;
  /** The decrypted payloads the stand-in stored for a subscription, in order. */
  notifications(clientHash: string): Promise<string[]>;
  /** Expires a subscription: its pushes are answered 410 from now on. */
  expire(clientHash: string): Promise<void>;
  /** Push requests (`POST /notify/...`) received so far, whatever their answer. */
  readonly pushRequests: () => number;
  close(): Promise<void>;
}

async function post(url: string, body: unknown): Promise<unknown> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`stand-in ${new URL(url).pathname}: ${res.status}`);
  const text = await res.text();
  return text === 'OK' || text === '' ? undefined : JSON.parse(text);
}

/**
 * Starts the stand-in on 127.0.0.1 (one per process: the package keeps its model in a module
 * variable).
 *
 * @example const standIn = await startPushStandIn(); const sub = await standIn.subscribe(key);
 */
export async function startPushStandIn(): Promise<PushStandIn> {
  const model = new PushApiModel();
  const standIn = new WebPushTestingServer(model, 0);
  standIn.setRequestHandlers();
  let pushes = 0;
  const server = createServer((req, res) => {
    if (req.method === 'POST' && req.url?.startsWith('/notify/')) pushes++;
    standIn._app(req, res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  model.notifyUrl = `${url}/notify/`;
  return {
    url,
    async subscribe(applicationServerKey) {
      const out = (await post(`${url}/subscribe`, {
        userVisibleOnly: 'true',
        applicationServerKey,
      })) as { data: StandInSubscription };
      return out.data;
    },
    async notifications(clientHash) {
      const out = (await post(`${url}/get-notifications`, { clientHash })) as {
        data: { messages: string[] };
      };
      return out.data.messages;
    },
    async expire(clientHash) {
      await post(`${url}/expire-subscription/${clientHash}`, {});
    },
    pushRequests: () => pushes,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
