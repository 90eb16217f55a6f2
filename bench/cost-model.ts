/**
 * Cost model of the mailbox service: AWS usage measured per delivered message (requests,
 * capacity units, bytes, Lambda time) and per connected device (WebSocket messages and
 * connection minutes), priced with the list prices in `bench/prices.json` (us-east-1; check the
 * live pricing pages before quoting a figure).
 */
import prices from './prices.json' with { type: 'json' };

/** Usage of one phase or of a whole run. */
export interface Usage {
  apiRequests: number;
  /** API Gateway bills every started 512 KiB of a request as one request. */
  apiBillingUnits: number;
  apiBytes: number;
  lambdaInvocations: number;
  lambdaMs: number;
  dynamoRequests: number;
  /** On-demand write request units (1 KiB each; 2 per KiB in transactions). */
  writeUnits: number;
  /** On-demand read request units (4 KiB strongly consistent; 0.5 eventually consistent). */
  readUnits: number;
  s3Put: number;
  s3Get: number;
  s3Delete: number;
  s3Bytes: number;
  /** API Gateway WebSocket messages, both directions, in billed 32 KiB units. */
  wsMessageUnits: number;
  /** API Gateway WebSocket connection minutes. */
  wsConnectionMinutes: number;
  /** Bytes the service sends to clients (responses and server frames): data transfer out. */
  transferOutBytes: number;
}

/** An empty usage record. */
export function emptyUsage(): Usage {
  return {
    apiRequests: 0,
    apiBillingUnits: 0,
    apiBytes: 0,
    lambdaInvocations: 0,
    lambdaMs: 0,
    dynamoRequests: 0,
    writeUnits: 0,
    readUnits: 0,
    s3Put: 0,
    s3Get: 0,
    s3Delete: 0,
    s3Bytes: 0,
    wsMessageUnits: 0,
    wsConnectionMinutes: 0,
    transferOutBytes: 0,
  };
}

/**
 * Billed WebSocket message units of one message of `bytes` (API Gateway meters messages in
 * 32 KiB increments; an empty message is still one).
 *
 * @example wsMessageUnits(40_000) // 2
 */
export function wsMessageUnits(bytes: number): number {
  return Math.max(1, Math.ceil(bytes / prices.apiGatewayWebSocket.messageUnitBytes));
}

/**
 * `a + b`, field by field.
 *
 * @example addUsage(sendUsage, ackUsage).writeUnits
 */
export function addUsage(a: Usage, b: Usage): Usage {
  const out = emptyUsage();
  for (const k of Object.keys(out) as (keyof Usage)[]) out[k] = a[k] + b[k];
  return out;
}

/**
 * `usage` times `factor`, field by field.
 *
 * @example scaleUsage(perReconnect, reconnectsPerMonth)
 */
export function scaleUsage(usage: Usage, factor: number): Usage {
  const out = emptyUsage();
  for (const k of Object.keys(out) as (keyof Usage)[]) out[k] = usage[k] * factor;
  return out;
}

/** Which S3 storage class the envelope objects use. */
export type S3Class = 's3Standard' | 's3ExpressOneZone';

/** Lambda's instruction set (infra/lib/node-function.ts builds arm64). */
export type LambdaArchitecture = 'arm64' | 'x86';

/** Assumptions that are not measured. */
export interface CostAssumptions {
  /** Lambda memory in GB of the function that ran `usage`. */
  readonly lambdaMemoryGb: number;
  readonly s3Class: S3Class;
  /** @default 'arm64' */
  readonly architecture?: LambdaArchitecture;
}

/** USD of a usage record, itemised. */
export interface CostBreakdown {
  api: number;
  /** API Gateway WebSocket messages and connection minutes. */
  websocket: number;
  lambda: number;
  dynamodb: number;
  s3: number;
  /** Data transfer out to the internet. */
  transferOut: number;
  total: number;
}

/**
 * Prices `usage` (request charges and Lambda time; storage of short-lived messages is left
 * out, it is below a cent per million 2 KB messages kept a day).
 *
 * @example price(usage, { lambdaMemoryGb: 0.25, s3Class: 's3Standard' }).total
 */
export function price(usage: Usage, assumptions: CostAssumptions): CostBreakdown {
  const s3 = prices[assumptions.s3Class];
  const api = (usage.apiBillingUnits / 1e6) * prices.apiGatewayHttp.perMillionRequests;
  const ws = prices.apiGatewayWebSocket;
  const websocket =
    (usage.wsMessageUnits / 1e6) * ws.perMillionMessages +
    (usage.wsConnectionMinutes / 1e6) * ws.perMillionConnectionMinutes;
  const perGbSecond =
    assumptions.architecture === 'x86'
      ? prices.lambda.perGbSecondX86
      : prices.lambda.perGbSecondArm64;
  const lambda =
    (usage.lambdaInvocations / 1e6) * prices.lambda.perMillionRequests +
    (usage.lambdaMs / 1000) * assumptions.lambdaMemoryGb * perGbSecond;
  const dynamodb =
    (usage.writeUnits / 1e6) * prices.dynamodbOnDemand.perMillionWriteUnits +
    (usage.readUnits / 1e6) * prices.dynamodbOnDemand.perMillionReadUnits;
  const s3Cost =
    (usage.s3Put / 1000) * s3.perThousandPut + (usage.s3Get / 1000) * s3.perThousandGet;
  const transferOut =
    (usage.transferOutBytes / 1e9) * prices.dataTransferOut.internetPerGbFirst10TB;
  return {
    api,
    websocket,
    lambda,
    dynamodb,
    s3: s3Cost,
    transferOut,
    total: api + websocket + lambda + dynamodb + s3Cost + transferOut,
  };
}

/**
 * `a + b`, item by item (usage of two functions priced at their own memory sizes).
 *
 * @example addCost(price(httpPart, { lambdaMemoryGb: 0.25, s3Class }), price(socketPart, { lambdaMemoryGb: 0.5, s3Class }))
 */
export function addCost(a: CostBreakdown, b: CostBreakdown): CostBreakdown {
  return {
    api: a.api + b.api,
    websocket: a.websocket + b.websocket,
    lambda: a.lambda + b.lambda,
    dynamodb: a.dynamodb + b.dynamodb,
    s3: a.s3 + b.s3,
    transferOut: a.transferOut + b.transferOut,
    total: a.total + b.total,
  };
}

/** A managed alternative to API Gateway WebSockets, priced on connection minutes alone. */
export interface ConnectionMinuteAlternative {
  readonly service: 'appSyncEvents' | 'iotCore';
  readonly usd: number;
  readonly note: string;
}

/**
 * What `minutes` of connection time cost on AppSync Events and IoT Core (connection minutes
 * only: their per-message or per-operation charges and any function time are left out).
 *
 * @example connectionMinuteAlternatives(43_776)[0].usd // AppSync Events, one device-month
 */
export function connectionMinuteAlternatives(minutes: number): ConnectionMinuteAlternative[] {
  return (['appSyncEvents', 'iotCore'] as const).map((service) => ({
    service,
    usd: (minutes / 1e6) * prices[service].perMillionConnectionMinutes,
    note: prices[service].note,
  }));
}

/** `usage` divided by `messages`. */
export function perMessage(usage: Usage, messages: number): Usage {
  const out = emptyUsage();
  for (const k of Object.keys(out) as (keyof Usage)[]) out[k] = usage[k] / messages;
  return out;
}

/** USD per million messages from a per-message usage record. */
export function usdPerMillion(perMessageUsage: Usage, assumptions: CostAssumptions): CostBreakdown {
  const one = price(perMessageUsage, assumptions);
  return {
    api: one.api * 1e6,
    websocket: one.websocket * 1e6,
    lambda: one.lambda * 1e6,
    dynamodb: one.dynamodb * 1e6,
    s3: one.s3 * 1e6,
    transferOut: one.transferOut * 1e6,
    total: one.total * 1e6,
  };
}

/** How an always-online idle device uses its WebSocket (the SDK's schedule) over a month. */
export interface IdleSchedule {
  readonly monthMs: number;
  /** A connection is replaced after this long (`MAX_CONNECTION_AGE_MS`). */
  readonly connectionAgeMs: number;
  /** A keepalive frame every this long on each connection (`KEEPALIVE_INTERVAL_MS`). */
  readonly keepaliveIntervalMs: number;
  /** UTF-8 bytes of the keepalive frame. */
  readonly keepaliveBytes: number;
  /** Measured usage of one reconnect (`$connect`, the first `ping` and its drain, `$disconnect`). */
  readonly reconnect: Usage;
}

/** An idle device-month over a WebSocket, counted and priced by item. */
export interface IdleMonth {
  readonly connections: number;
  readonly keepalives: number;
  readonly minutes: number;
  readonly connected: CostBreakdown;
  readonly keepalive: CostBreakdown;
  readonly reconnects: CostBreakdown;
  readonly total: number;
}

/**
 * Prices an always-online idle device-month: connection minutes, one inbound message per
 * keepalive (routed to a mock integration: no function runs), and one reconnect per connection.
 * The keepalive timer restarts with each connection, so a connection of age A with interval I
 * sends ceil(A / I) - 1 of them; connection minutes are billed per started minute.
 *
 * @example idleDeviceMonth({ monthMs, connectionAgeMs, keepaliveIntervalMs, keepaliveBytes: 20, reconnect }, assumptions).total
 */
export function idleDeviceMonth(schedule: IdleSchedule, assumptions: CostAssumptions): IdleMonth {
  const connections = schedule.monthMs / schedule.connectionAgeMs;
  const keepalives =
    connections * (Math.ceil(schedule.connectionAgeMs / schedule.keepaliveIntervalMs) - 1);
  const minutes = connections * Math.ceil(schedule.connectionAgeMs / 60_000);
  const connected = price({ ...emptyUsage(), wsConnectionMinutes: minutes }, assumptions);
  const keepalive = price(
    { ...emptyUsage(), wsMessageUnits: keepalives * wsMessageUnits(schedule.keepaliveBytes) },
    assumptions,
  );
  const reconnects = price(scaleUsage(schedule.reconnect, connections), assumptions);
  return {
    connections,
    keepalives,
    minutes,
    connected,
    keepalive,
    reconnects,
    total: connected.total + keepalive.total + reconnects.total,
  };
}

/**
 * The user-month profile of docs/SERVICE.md §13: 2 devices per user, each connected 8 hours a
 * day (one session, renewed at the SDK's connection age); 50 messages sent and 50 received a
 * day, each to a contact with 2 devices plus the sync copy to the sender's other device.
 */
export interface UserMonthProfile {
  readonly devices: number;
  readonly onlineHoursPerDay: number;
  /** Sessions a device opens a day (each renewed every `connectionAgeMs`). */
  readonly sessionsPerDay: number;
  readonly messagesSentPerDay: number;
  readonly daysPerMonth: number;
  /** SDK schedule: a connection is replaced after this long, keepalives this often. */
  readonly connectionAgeMs: number;
  readonly keepaliveIntervalMs: number;
  readonly keepaliveBytes: number;
}

/** The profile's counts over a month for one user. */
export interface UserMonthCounts {
  readonly messages: number;
  readonly connections: number;
  readonly connectionMinutes: number;
  readonly keepalives: number;
}

/**
 * How many messages, connections, connection minutes and keepalives one user's devices make in
 * a month of `profile`.
 *
 * @example userMonthCounts(profile).connectionMinutes // 2 x 8 h x 60 x 30.4 = 29,184
 */
export function userMonthCounts(profile: UserMonthProfile): UserMonthCounts {
  const sessionMs = (profile.onlineHoursPerDay * 3_600_000) / profile.sessionsPerDay;
  const perSession = Math.ceil(sessionMs / profile.connectionAgeMs);
  const deviceDays = profile.devices * profile.daysPerMonth;
  const connectionMs = sessionMs / perSession;
  return {
    messages: profile.messagesSentPerDay * profile.daysPerMonth,
    connections: deviceDays * profile.sessionsPerDay * perSession,
    connectionMinutes: deviceDays * profile.onlineHoursPerDay * 60,
    keepalives:
      deviceDays *
      profile.sessionsPerDay *
      perSession *
      (Math.ceil(connectionMs / profile.keepaliveIntervalMs) - 1),
  };
}

/** One user-month by component (USD). */
export interface UserMonthCost {
  readonly api: number;
  readonly lambda: number;
  readonly dynamodb: number;
  readonly s3: number;
  /** Envelope objects or inline records kept until acknowledged (S3 or DynamoDB storage). */
  readonly storage: number;
  readonly connectionMinutes: number;
  /** WebSocket messages: pushes, drains, acknowledgements and their answers, keepalives. */
  readonly wsMessages: number;
  readonly transferOut: number;
  readonly total: number;
}

/**
 * Prices one user-month from measured per-message and per-connection usage (each split into the
 * HTTP function's and the WebSocket function's part, priced at their memory sizes) and the
 * profile's counts. `storedGbMonths`: GB-months of envelopes held until acknowledged.
 *
 * @example userMonthCost({ perMessage, perConnection, counts, storedGbMonths: 1e-6, storageClass: 's3Standard' }, http, socket).total
 */
export function userMonthCost(
  measured: {
    readonly perMessage: { readonly http: Usage; readonly socket: Usage };
    readonly perConnection: { readonly http: Usage; readonly socket: Usage };
    readonly counts: UserMonthCounts;
    readonly keepaliveBytes: number;
    readonly storedGbMonths: number;
    /** Where the stored bytes are billed. */
    readonly storageClass: S3Class | 'dynamodb';
  },
  http: CostAssumptions,
  socket: CostAssumptions,
): UserMonthCost {
  const { counts } = measured;
  const parts = [
    price(scaleUsage(measured.perMessage.http, counts.messages), http),
    price(scaleUsage(measured.perMessage.socket, counts.messages), socket),
    price(scaleUsage(measured.perConnection.http, counts.connections), http),
    price(scaleUsage(measured.perConnection.socket, counts.connections), socket),
  ].reduce(addCost);
  const ws = prices.apiGatewayWebSocket;
  const keepalives =
    (counts.keepalives * wsMessageUnits(measured.keepaliveBytes) * ws.perMillionMessages) / 1e6;
  const connectionMinutes = (counts.connectionMinutes / 1e6) * ws.perMillionConnectionMinutes;
  const storagePrice =
    measured.storageClass === 'dynamodb'
      ? prices.dynamodbOnDemand.storagePerGbMonth
      : prices[measured.storageClass].storagePerGbMonth;
  const storage = measured.storedGbMonths * storagePrice;
  const wsMessages = parts.websocket + keepalives;
  const total =
    parts.api +
    parts.lambda +
    parts.dynamodb +
    parts.s3 +
    storage +
    connectionMinutes +
    wsMessages +
    parts.transferOut;
  return {
    api: parts.api,
    lambda: parts.lambda,
    dynamodb: parts.dynamodb,
    s3: parts.s3,
    storage,
    connectionMinutes,
    wsMessages,
    transferOut: parts.transferOut,
    total,
  };
}

/**
 * What the code does per message of the profile (a send to a contact with 2 devices plus the
 * sync copy to the sender's other device), by design; test/e2e/user-month.test.ts checks a real
 * trace against it so the user-month figure cannot drift from the code. The send to the contact
 * is one multi-recipient request (docs/PROTOCOL.md §14: one shared payload object, each device's
 * header inline in its record); the sync copy, to a single device, is a per-device envelope in
 * its own object. `drainedShare`: envelopes that waited for their device to connect over all
 * envelopes; `drainsPerMessage`: connects whose drain delivered at least one envelope, per
 * message sent; `perDeviceAckFrames`: `ack` frames carrying a sync copy's id, per message.
 *
 * @example modelMessageCounts({ drainedShare: 10 / 12, drainsPerMessage: 1.5, perDeviceAckFrames: 1 }).s3Requests // 2 + 2.5 + 1 + 1
 */
export function modelMessageCounts(options: {
  drainedShare: number;
  drainsPerMessage: number;
  perDeviceAckFrames: number;
}): {
  apiRequests: number;
  s3Requests: number;
  wsFramesIn: number;
  wsFramesOut: number;
} {
  const envelopes = 3;
  // The SDK coalesces acknowledgements (sdk/client/realtime-acks.ts): a drain's ids go in one
  // `ack` frame (a drain of the profile holds far fewer than 100), and a push, minutes from the
  // next in the profile, in one of its own. Each `ack` frame is answered by one `acked`.
  const ackFrames = envelopes * (1 - options.drainedShare) + options.drainsPerMessage;
  return {
    // The multi-recipient send to the contact's devices and the identified sync copy.
    apiRequests: 2,
    // PUTs: the shared payload and the sync copy's object. GETs: one per drained envelope (the
    // sync copy's object, or the payload for a header; a push carries either from memory).
    // Deletes: the payload's, with its last reference, and one DeleteObjects per `ack` frame
    // that carries a sync copy's id.
    s3Requests: 2 + envelopes * options.drainedShare + 1 + options.perDeviceAckFrames,
    // In: the `ack` frames. Out: a `message` frame per envelope and an `acked` per `ack`.
    wsFramesIn: ackFrames,
    wsFramesOut: envelopes + ackFrames,
  };
}
