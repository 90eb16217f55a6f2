/**
 * Report intake (docs/SERVICE.md §14.1): a recipient's device reports a message it received
 * (plus up to five earlier ones of the same sender account) with the franking evidence; every
 * message is verified for this reporter (functions/domain/report-verifier.ts behind the
 * {@link ReportVerifier} port), then the report is stored once under an id derived from the
 * reporter and the reported delivery, so a repeated report is answered `duplicate: true`.
 *
 * Logged: a report's id and reason when stored, and the verifier's short reason when refused
 * (`{"reportRefused":1,...}`, turned into a metric by the stack). Never content or addresses.
 */
import { addressToBytes } from 'sealpost/wire';
import type { ReportedMessageJson, ReportRequest, ReportResponse } from 'sealpost/wire/api';
import { fromBase64Url, toBase64Url } from 'sealpost/wire/api';
import type { Caller } from './auth-service.ts';
import type { ServiceConfig } from './config.ts';
import { sha256 } from './crypto.ts';
import { ServiceError } from './errors.ts';
import type { Clock, RateLimiter } from './ports.ts';
import type {
  ReportedMessage,
  ReportStore,
  ReportVerifier,
  StoredReport,
  VerifiedMessage,
} from './report-ports.ts';

const encoder = new TextEncoder();
const concat = (...parts: Uint8Array[]): Uint8Array => new Uint8Array(Buffer.concat(parts));
/** Domain label of report ids. */
const REPORT_ID_LABEL = encoder.encode('Sealpost-Report-v1');
/** Domain label of the reporter hashes kept in a sender's counter item. */
const REPORTER_LABEL = encoder.encode('Sealpost-Reporter-v1');
/** Bytes of a report id. */
const REPORT_ID_BYTES = 16;

/**
 * The id of a report: the first 16 bytes of
 * `SHA-256("Sealpost-Report-v1" || reporterAddressBytes(20) || stamp)`, base64url. The stamp
 * names one delivery to one device, so one account reporting one message always gets one id.
 *
 * @example reportIdOf(caller.address, stamp) // 22 characters
 */
export function reportIdOf(reporterAddress: string, stamp: Uint8Array): string {
  const digest = sha256(concat(REPORT_ID_LABEL, addressToBytes(reporterAddress), stamp));
  return toBase64Url(digest.subarray(0, REPORT_ID_BYTES));
}

/**
 * What a sender's counter remembers of a reporting account: `SHA-256("Sealpost-Reporter-v1" ||
 * addressBytes(20))`. Enough to count distinct reporters; addresses are not secret to the
 * operator, so no key is needed, only not to list reporters beside the sender.
 *
 * @example reporterHashOf(caller.address).length // 32
 */
export function reporterHashOf(address: string): Uint8Array {
  return sha256(concat(REPORTER_LABEL, addressToBytes(address)));
}

/** The verifier's reason as it may appear in an answer and a log line: short, plain. */
function plainReason(reason: string): string {
  const text = String(reason)
    .replace(/[^A-Za-z0-9 _.:,/-]/g, '')
    .slice(0, 60);
  return text === '' ? 'unverifiable' : text;
}

function decodeMessage(json: ReportedMessageJson): ReportedMessage {
  return {
    messageId: fromBase64Url(json.messageId, 'messageId'),
    receivedAt: json.receivedAt,
    stamp: fromBase64Url(json.stamp, 'stamp'),
    commitment: fromBase64Url(json.commitment, 'commitment'),
    openingKey: fromBase64Url(json.openingKey, 'openingKey'),
    content: fromBase64Url(json.content, 'content'),
    senderCertificate: fromBase64Url(json.senderCertificate, 'senderCertificate'),
    moderatorKeyId: json.moderatorKeyId,
    sessionKey: fromBase64Url(json.sessionKey, 'sessionKey'),
    signature: fromBase64Url(json.signature, 'signature'),
    messageSignature: fromBase64Url(json.messageSignature, 'messageSignature'),
  };
}

const notConfigured = () =>
  new ServiceError('NOT_CONFIGURED', 'reports are not configured on this deployment');

/** Verifies and stores reports. */
export class ReportService {
  /**
   * @param store - where verified reports go; without it (or without a verifier) the route
   *   answers `NOT_CONFIGURED`
   * @param log - one JSON line per stored or refused report (id and reason only)
   */
  constructor(
    private readonly store: ReportStore | undefined,
    private readonly verifier: ReportVerifier | undefined,
    private readonly limiter: RateLimiter,
    private readonly clock: Clock,
    private readonly config: ServiceConfig,
    private readonly log: (line: string) => void,
  ) {}

  /**
   * Verifies and stores a report by the caller's device. The reporting account is limited to
   * `config.reportRateLimit` (20 per hour) reports, refused ones included. Every message must
   * verify for this device; the earlier ones must come from the reported message's sender
   * account and have arrived no later than it.
   *
   * @example await reports.submit(caller, { reason: 'spam', message }) // { reportId, duplicate: false }
   * @throws {ServiceError} `RATE_LIMITED`, `REPORT_UNVERIFIABLE` (naming the message and the
   *   verifier's reason), `NOT_CONFIGURED`.
   */
  async submit(caller: Caller, req: ReportRequest): Promise<ReportResponse> {
    const store = this.store;
    const verifier = this.verifier;
    if (!store || !verifier) throw notConfigured();
    const now = this.clock();
    const { limit, windowMs } = this.config.reportRateLimit;
    if (!(await this.limiter.hit(`report:${caller.address}`, limit, windowMs, now))) {
      throw new ServiceError('RATE_LIMITED', 'too many reports; retry later');
    }
    const reporter = { address: caller.address, deviceId: caller.deviceId };
    const main = await this.verified(verifier, reporter, req.message, now, 'message');
    const previous: VerifiedMessage[] = [];
    for (const [i, json] of (req.previous ?? []).entries()) {
      const which = `previous[${i}]`;
      const m = await this.verified(verifier, reporter, json, now, which);
      if (m.sender.address !== main.sender.address) throw this.refuse(which, 'another sender');
      if (m.receivedAt > main.receivedAt) {
        throw this.refuse(which, 'received after the reported message');
      }
      previous.push(m);
    }
    // A stamp names one delivery: the same message twice adds nothing to a report.
    const all = [main, ...previous];
    if (new Set(all.map((m) => toBase64Url(m.stamp))).size !== all.length) {
      throw this.refuse('previous', 'repeated message');
    }
    const reportId = reportIdOf(reporter.address, main.stamp);
    const report: StoredReport = {
      reportId,
      status: 'open',
      reason: req.reason,
      createdAt: now,
      expiresAt: now + this.config.reportRetentionMs,
      reporter,
      sender: { address: main.sender.address, deviceId: main.sender.deviceId },
      messages: all.map((m) => ({
        messageId: m.messageId,
        receivedAt: m.receivedAt,
        stamp: m.stamp,
        content: m.content,
      })),
    };
    const stored = await store.add(report, reporterHashOf(reporter.address));
    this.log(JSON.stringify({ reportStored: stored ? 1 : 0, reportId, reason: req.reason }));
    return { reportId, duplicate: !stored };
  }

  private async verified(
    verifier: ReportVerifier,
    reporter: { address: string; deviceId: number },
    json: ReportedMessageJson,
    now: number,
    which: string,
  ): Promise<VerifiedMessage> {
    const outcome = await verifier.verify(reporter, decodeMessage(json), now);
    if (!outcome.ok) throw this.refuse(which, outcome.reason);
    return outcome.message;
  }

  private refuse(which: string, reason: string): ServiceError {
    const plain = plainReason(reason);
    this.log(JSON.stringify({ reportRefused: 1, message: which, reason: plain }));
    return new ServiceError('REPORT_UNVERIFIABLE', `${which} does not verify: ${plain}`);
  }
}
