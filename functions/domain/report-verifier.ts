/**
 * Verification of a reported message (docs/PROTOCOL.md §11.6, docs/SERVICE.md §14.1): the
 * {@link ReportVerifier} of the report service. A report is accepted only if the service
 * delivered a message with this commitment to the reporting device (its stamp), the revealed
 * content opens the commitment, the sender certificate chains to this deployment's trust
 * root, the franking session key signed exactly this commitment, sender and recipient, and
 * the asymmetric franking signature over that session judges valid under this deployment's
 * moderator key. Checks run cheapest first; each failure answers one short fixed reason, never
 * anything derived from the content.
 *
 * Judging costs milliseconds and the messages of one session share its franking signature (the
 * earlier messages of a report usually do), so sessions that judged valid are remembered, by
 * the SHA-256 of everything the judgement depends on, in a bounded in-memory set.
 */
import { createHash } from 'node:crypto';
import {
  checkFrankingCommitment,
  frankingMessage,
  frankingSessionMessage,
  judgeFranking,
} from 'sealpost/franking';
import {
  decodeSenderCertificate,
  decodeServerCertificate,
  type SenderCertificate,
  senderCertificatePayload,
  serverCertificatePayload,
} from 'sealpost/wire';
import type { ServiceConfig } from './config.ts';
import { ed25519Verify } from './crypto.ts';
import { stamperFor } from './franking-stamp.ts';
import type { SigningKeyProvider } from './ports.ts';
import type { ReportedMessage, ReportVerifier, VerifyOutcome } from './report-ports.ts';

/** How far in the future a reported `receivedAt` may be (clock skew between instances). */
export const REPORT_CLOCK_SKEW_MS = 5 * 60 * 1000;
/** Franking sessions a verifier remembers as judged valid (32-byte digests, ~100 KiB). */
export const JUDGED_SESSION_CACHE_SIZE = 2048;
/** Sender certificate chains remembered as verified, per process (emptied when full). */
const CERTIFICATE_CACHE_SIZE = 256;
const chains = new Map<string, { sender: SenderCertificate; serverNotAfter: number }>();

/** The reasons {@link FrankingReportVerifier} refuses with, in the order it checks. */
export const REPORT_VERIFY_REASONS = {
  tooOld: 'too old',
  future: 'received in the future',
  stamp: 'stamp',
  commitment: 'commitment',
  certificate: 'certificate',
  moderatorKey: 'moderator key',
  signature: 'signature',
} as const;

type Reason = (typeof REPORT_VERIFY_REASONS)[keyof typeof REPORT_VERIFY_REASONS];

const refuse = (reason: Reason): VerifyOutcome => ({ ok: false, reason });

/**
 * The report verifier over the deployment's signing material (trust root, moderator key,
 * stamp secret).
 *
 * @example
 * const verifier = new FrankingReportVerifier(ports.signingKeys, config);
 * const outcome = await verifier.verify({ address, deviceId }, reported, Date.now());
 */
export class FrankingReportVerifier implements ReportVerifier {
  private readonly judged = new Set<string>();

  constructor(
    private readonly keys: SigningKeyProvider,
    private readonly config: Pick<ServiceConfig, 'reportWindowMs'>,
  ) {}

  /**
   * Verifies `m` as reported by the device `reporter` at `now`, in this order:
   * `receivedAt` within the report window (`too old`) and not more than
   * {@link REPORT_CLOCK_SKEW_MS} ahead (`received in the future`); the stamp over (commitment,
   * reporter, receivedAt, messageId) (`stamp`: the reporter is the device the message was
   * delivered to, at that time, under that id); the commitment opens to the content
   * (`commitment`); the sender certificate chains to this deployment's trust root and was
   * valid at `receivedAt` (`certificate`); the moderator key id is this deployment's
   * (`moderator key`); the session key's signature over the message verifies and the franking
   * signature over the session judges valid (`signature`).
   *
   * @example await verifier.verify(reporter, reported, Date.now()) // { ok: true, message }
   */
  async verify(
    reporter: { address: string; deviceId: number },
    m: ReportedMessage,
    now: number,
  ): Promise<VerifyOutcome> {
    if (!Number.isSafeInteger(m.receivedAt) || m.receivedAt < now - this.config.reportWindowMs) {
      return refuse(REPORT_VERIFY_REASONS.tooOld);
    }
    if (m.receivedAt > now + REPORT_CLOCK_SKEW_MS) return refuse(REPORT_VERIFY_REASONS.future);
    const material = await this.keys.get();
    const delivery = {
      commitment: m.commitment,
      recipientAddress: reporter.address,
      recipientDeviceId: reporter.deviceId,
      receivedAt: m.receivedAt,
      messageId: m.messageId,
    };
    if (!stamperFor(material).verify(delivery, m.stamp)) {
      return refuse(REPORT_VERIFY_REASONS.stamp);
    }
    if (!safely(() => checkFrankingCommitment(m.commitment, m.openingKey, m.content))) {
      return refuse(REPORT_VERIFY_REASONS.commitment);
    }
    // The certificate had to be valid when the message arrived, not now: reports come later.
    const cert = this.senderCertificateAt(m.senderCertificate, material.trustRoot, m.receivedAt);
    if (cert === undefined) return refuse(REPORT_VERIFY_REASONS.certificate);
    if (m.moderatorKeyId !== material.moderatorKeyId) {
      return refuse(REPORT_VERIFY_REASONS.moderatorKey);
    }
    const ctx = {
      senderAddress: cert.address,
      senderDeviceId: cert.deviceId,
      recipientAddress: reporter.address,
      recipientDeviceId: reporter.deviceId,
      moderatorKeyId: m.moderatorKeyId,
    };
    const signed = ed25519Verify(
      m.sessionKey,
      frankingMessage({ commitment: m.commitment, ...ctx }),
      m.messageSignature,
    );
    if (!signed) return refuse(REPORT_VERIFY_REASONS.signature);
    const sessionMessage = frankingSessionMessage({ sessionKey: m.sessionKey, ...ctx });
    const digest = sessionDigest(m.moderatorKeyId, cert.frankingKey, sessionMessage, m.signature);
    const judged =
      this.judged.has(digest) ||
      safely(() =>
        judgeFranking({
          moderatorSecret: material.moderatorSecret,
          senderPublic: cert.frankingKey,
          moderatorPublic: material.moderatorPublic,
          message: sessionMessage,
          signature: m.signature,
        }),
      );
    if (!judged) return refuse(REPORT_VERIFY_REASONS.signature);
    this.remember(digest);
    return {
      ok: true,
      message: {
        messageId: m.messageId,
        receivedAt: m.receivedAt,
        sender: { address: cert.address, deviceId: cert.deviceId },
        content: m.content,
        stamp: m.stamp,
      },
    };
  }

  /**
   * The sender certificate `bytes` if it chains to `trustRoot` and both it and its server
   * certificate were valid at `at`, as a recipient checks it (docs/PROTOCOL.md §6; the rules of
   * the SDK's `validateSenderCertificate`, here on node:crypto so the handler does not load the
   * SDK's protocol code); otherwise undefined. Chains that verified are remembered (the
   * messages of a report share one certificate); the times are checked every call.
   */
  private senderCertificateAt(
    bytes: Uint8Array,
    trustRoot: Uint8Array,
    at: number,
  ): SenderCertificate | undefined {
    const key = createHash('sha256').update(trustRoot).update(bytes).digest('base64url');
    try {
      let chain = chains.get(key);
      if (chain === undefined) {
        const sender = decodeSenderCertificate(bytes);
        const server = decodeServerCertificate(sender.serverCertificate);
        if (!ed25519Verify(trustRoot, serverCertificatePayload(server), server.signature)) {
          return undefined;
        }
        if (
          !ed25519Verify(server.serverPublic, senderCertificatePayload(sender), sender.signature)
        ) {
          return undefined;
        }
        chain = { sender, serverNotAfter: server.notAfter };
        if (chains.size >= CERTIFICATE_CACHE_SIZE) chains.clear();
        chains.set(key, chain);
      }
      return at > chain.serverNotAfter || at >= chain.sender.expires ? undefined : chain.sender;
    } catch {
      return undefined;
    }
  }

  private remember(digest: string): void {
    this.judged.delete(digest);
    this.judged.add(digest);
    if (this.judged.size > JUDGED_SESSION_CACHE_SIZE) {
      this.judged.delete(this.judged.values().next().value as string);
    }
  }
}

/** The judged-session key: SHA-256 over the moderator key id and the judge's public inputs. */
function sessionDigest(
  moderatorKeyId: number,
  senderPublic: Uint8Array,
  sessionMessage: Uint8Array,
  signature: Uint8Array,
): string {
  const id = Buffer.alloc(4);
  id.writeUInt32BE(moderatorKeyId);
  return createHash('sha256')
    .update(id)
    .update(senderPublic)
    .update(sessionMessage)
    .update(signature)
    .digest('base64url');
}

/** A check that counts as failed when its input is malformed enough to throw. */
function safely(check: () => boolean): boolean {
  try {
    return check();
  } catch {
    return false;
  }
}
