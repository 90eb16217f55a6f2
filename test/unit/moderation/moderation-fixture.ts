/**
 * The device app and the moderation app over in-memory adapters, with a stand-in report
 * verifier: it plays the delivery (a stamp per delivered message, remembered with its
 * recipient, sender and content) and checks a reported message against what it delivered,
 * answering with the real verifier's short reasons. So the intake, the stores and the
 * moderation API are tested without the franking cryptography (tested on its own).
 */
import { createHash, randomBytes as nodeRandomBytes } from 'node:crypto';
import { memoryModerationPorts } from '#functions/adapters/memory-ports.ts';
import { buildApp } from '#functions/api/app.ts';
import { createServices } from '#functions/api/compose.ts';
import { buildModerationApp, isModerationPath } from '#functions/api/moderation/app.ts';
import type { AttachmentPorts } from '#functions/domain/attachment-ports.ts';
import { DEFAULT_CONFIG, type ServiceConfig } from '#functions/domain/config.ts';
import { randomBytes } from '#functions/domain/crypto.ts';
import { ModerationService } from '#functions/domain/moderation-service.ts';
import type {
  ReportedMessage,
  ReportVerifier,
  VerifyOutcome,
} from '#functions/domain/report-ports.ts';
import { fromBase64Url, toBase64Url } from '#sdk/wire/api/codec.ts';
import type { ReportedMessageJson } from '#sdk/wire/api/schemas.ts';
import {
  type CallResult,
  memoryPorts,
  newAccount,
  newDevice,
  registrationBody,
  requestApp,
  type TestDevice,
  testMaterial,
} from '../functions/fixtures.ts';
import { testWakeups } from '../functions/push-fixture.ts';

const encoder = new TextEncoder();

/** Who received what, as the stand-in verifier remembers a delivery. */
interface Delivery {
  readonly reporter: { readonly address: string; readonly deviceId: number };
  readonly sender: { readonly address: string; readonly deviceId: number };
  readonly messageId: string;
  readonly receivedAt: number;
  readonly commitment: string;
}

const sha256 = (...parts: Uint8Array[]): Uint8Array => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
};

/**
 * A verifier that knows every delivery it made: `stamp` (a random 32 bytes per delivery) must
 * name a delivery to this reporter device with this id and time; the commitment must be
 * SHA-256(openingKey || content) and the delivery's.
 */
export class StandInVerifier implements ReportVerifier {
  private readonly deliveries = new Map<string, Delivery>();
  /** Messages checked, in order. */
  readonly checked: ReportedMessage[] = [];

  /**
   * What `reporter` holds after `sender` sent it `content` and the service delivered it at
   * `receivedAt`: the fields of one reported message.
   */
  deliver(
    reporter: TestDevice,
    sender: TestDevice,
    content: Uint8Array,
    receivedAt: number,
  ): ReportedMessageJson {
    const stamp = toBase64Url(nodeRandomBytes(32));
    const openingKey = nodeRandomBytes(32);
    const commitment = toBase64Url(sha256(openingKey, content));
    const messageId = toBase64Url(nodeRandomBytes(16));
    this.deliveries.set(stamp, {
      reporter: { address: reporter.account.address, deviceId: reporter.deviceId },
      sender: { address: sender.account.address, deviceId: sender.deviceId },
      messageId,
      receivedAt,
      commitment,
    });
    return {
      messageId,
      receivedAt,
      stamp,
      commitment,
      openingKey: toBase64Url(openingKey),
      content: toBase64Url(content),
      senderCertificate: toBase64Url(nodeRandomBytes(200)),
      moderatorKeyId: 1,
      sessionKey: toBase64Url(nodeRandomBytes(32)),
      signature: toBase64Url(nodeRandomBytes(304)),
      messageSignature: toBase64Url(nodeRandomBytes(64)),
    };
  }

  async verify(
    reporter: { address: string; deviceId: number },
    m: ReportedMessage,
    _now: number,
  ): Promise<VerifyOutcome> {
    this.checked.push(m);
    const d = this.deliveries.get(toBase64Url(m.stamp));
    if (
      !d ||
      d.reporter.address !== reporter.address ||
      d.reporter.deviceId !== reporter.deviceId ||
      d.messageId !== toBase64Url(m.messageId) ||
      d.receivedAt !== m.receivedAt
    ) {
      return { ok: false, reason: 'stamp' };
    }
    const opened = toBase64Url(sha256(m.openingKey, m.content));
    if (opened !== d.commitment || toBase64Url(m.commitment) !== d.commitment) {
      return { ok: false, reason: 'commitment' };
    }
    return {
      ok: true,
      message: {
        messageId: m.messageId,
        receivedAt: m.receivedAt,
        sender: { ...d.sender },
        content: m.content,
        stamp: m.stamp,
      },
    };
  }
}

/** A request to either app. */
export interface ModerationCall {
  readonly method: string;
  readonly path: string;
  readonly json?: unknown;
  readonly rawBody?: Uint8Array | string;
  readonly headers?: Record<string, string>;
  /** Owner-sign as this device (device API). */
  readonly signer?: TestDevice;
  /** The moderation token to send; `false` sends none. @default the harness's token */
  readonly token?: string | false;
}

/** The time every harness starts at. */
export const START = 1_750_000_000_000;

/**
 * Both apps over fresh in-memory ports, a controllable clock and captured log lines.
 *
 * @param options.moderation - false: no moderation ports and no verifier (intake not configured)
 */
export function moderationHarness(
  options: {
    config?: Partial<ServiceConfig>;
    moderation?: boolean;
    attachments?: AttachmentPorts;
  } = {},
) {
  const clock = { now: START };
  const logs: string[] = [];
  const log = (line: string) => logs.push(line);
  const ports = memoryPorts(testMaterial());
  const moderation = memoryModerationPorts(ports.accounts);
  const verifier = new StandInVerifier();
  const config = { ...DEFAULT_CONFIG, ...options.config };
  const configured = options.moderation !== false;
  const services = createServices(ports, {
    clock: () => clock.now,
    config,
    wakeups: testWakeups(),
    log,
    ...(configured ? { moderation, reportVerifier: verifier } : {}),
    ...(options.attachments ? { attachments: options.attachments } : {}),
  });
  const app = buildApp({ services, log });
  const token = nodeRandomBytes(32).toString('base64url');
  const moderationApp = buildModerationApp({
    moderation: new ModerationService(moderation, ports.accounts, () => clock.now, randomBytes),
    auth: { kind: 'bearer', token },
    log,
  });

  async function call(c: ModerationCall): Promise<CallResult> {
    const headers: Record<string, string> = { ...c.headers };
    const moderated = isModerationPath(c.path.split('?')[0]!);
    if (moderated && c.token !== false) headers['authorization'] ??= `Bearer ${c.token ?? token}`;
    return requestApp(moderated ? moderationApp : app, { ...c, headers }, clock.now);
  }

  /** Registers a new account with one device and returns that device (id 1). */
  async function register(): Promise<TestDevice> {
    const device = newDevice(newAccount());
    const res = await call({
      method: 'PUT',
      path: `/v1/accounts/${device.account.address}`,
      json: registrationBody(device, clock.now),
    });
    if (res.status !== 200) throw new Error(`register failed: ${JSON.stringify(res.body)}`);
    device.deviceId = res.body.deviceId;
    return device;
  }

  /** Reports `message` (and `previous`) as `reporter`. */
  function report(
    reporter: TestDevice,
    message: ReportedMessageJson,
    previous?: ReportedMessageJson[],
    reason = 'harassment',
  ): Promise<CallResult> {
    return call({
      method: 'POST',
      path: '/v1/reports',
      json: { reason, message, ...(previous ? { previous } : {}) },
      signer: reporter,
    });
  }

  /** A text message from `sender` to `reporter`, delivered now, ready to report. */
  function delivered(
    reporter: TestDevice,
    sender: TestDevice,
    text = 'hello',
    receivedAt = clock.now - (clock.now % 3_600_000),
  ): ReportedMessageJson {
    return verifier.deliver(reporter, sender, encoder.encode(text), receivedAt);
  }

  return {
    app,
    moderationApp,
    call,
    clock,
    logs,
    ports,
    moderation,
    verifier,
    token,
    services,
    register,
    report,
    delivered,
  };
}

export type ModerationHarness = ReturnType<typeof moderationHarness>;

/** The JSON body of a moderation response (the device API's response type does not cover it). */
export function json<T = Record<string, unknown>>(res: CallResult): T {
  return res.json as T;
}

/** The bytes of a base64url field. */
export const bytes = (b64: string): Uint8Array => fromBase64Url(b64, 'field');
