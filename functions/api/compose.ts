/**
 * Wires ports into domain services. Shared by the Lambda composition root, the local server
 * and the tests, so all three run the same object graph.
 */
import { AccountService } from '../domain/account-service.ts';
import type { AttachmentPorts } from '../domain/attachment-ports.ts';
import { AttachmentService } from '../domain/attachment-service.ts';
import { AuthService } from '../domain/auth-service.ts';
import { BlockService } from '../domain/block-service.ts';
import { CertificateService } from '../domain/certificate-service.ts';
import { DEFAULT_CONFIG, type ServiceConfig } from '../domain/config.ts';
import { randomBytes } from '../domain/crypto.ts';
import { DeliveryStamps } from '../domain/franking-stamp.ts';
import type { Random } from '../domain/mailbox-positions.ts';
import { MessageService } from '../domain/message-service.ts';
import type { ModerationPorts } from '../domain/moderation-ports.ts';
import type { Clock, Ports } from '../domain/ports.ts';
import { PrekeyService } from '../domain/prekey-service.ts';
import type { NotifyHook } from '../domain/realtime-ports.ts';
import type { ReportVerifier } from '../domain/report-ports.ts';
import { ReportService } from '../domain/report-service.ts';
import { FrankingReportVerifier } from '../domain/report-verifier.ts';
import { SuspensionService } from '../domain/suspension-service.ts';
import type { TokenPorts } from '../domain/token-ports.ts';
import { TokenService } from '../domain/token-service.ts';
import type { WakeupPorts } from '../domain/wakeup-ports.ts';
import { WakeupService, wakingNotifier } from '../domain/wakeup-service.ts';
import type { AppServices } from './env.ts';

export type { Ports };

/** Wake-ups (docs/SERVICE.md §7.3): their ports, and where a failed wake-up is counted. */
export type WakeupOptions = WakeupPorts & { readonly log: (line: string) => void };

/** Options of {@link createServices}. */
export interface ServicesOptions {
  readonly clock?: Clock;
  readonly config?: ServiceConfig;
  readonly random?: Random;
  /**
   * Realtime delivery: called after every store; its notifier may report whether the message
   * reached a live connection (`RealtimeService.notify`), which spares the device a wake-up.
   */
  readonly notify?: NotifyHook;
  /**
   * Wake-ups of devices without a live connection, and the push subscription store (device
   * removal removes a device's subscription). With a sender and Web Push settings, every store
   * the realtime hook did not push to a live connection wakes the device.
   */
  readonly wakeups?: WakeupOptions;
  /**
   * Attachment transfer (docs/SERVICE.md §7.6): the object store, upload sessions and quota.
   * Without them the attachment routes answer `NOT_CONFIGURED`.
   */
  readonly attachments?: AttachmentPorts;
  /**
   * Moderation (docs/SERVICE.md §14): the report store, suspensions and the audit log. Without
   * them the revocation list is signed and empty and `POST /v1/reports` answers
   * `NOT_CONFIGURED`.
   */
  readonly moderation?: ModerationPorts;
  /**
   * Checks the franking evidence of a report. @default the real verifier over the ports'
   * signing material (functions/domain/report-verifier.ts)
   */
  readonly reportVerifier?: ReportVerifier;
  /** Where the report intake writes its lines (a report's id and reason, refusals). */
  readonly log?: (line: string) => void;
  /**
   * Anonymous tokens (docs/SERVICE.md §15): the issuance counters, spent tokens and issuer
   * keys. Without them `GET /v1/tokens/keys` and `POST /v1/tokens` answer `NOT_CONFIGURED` and
   * every token is `INVALID_TOKEN`.
   */
  readonly tokens?: TokenPorts;
}

const discard = () => undefined;

/**
 * The domain services over `ports`.
 *
 * @example createServices(memoryPorts(signingKeys), { clock: () => 0 })
 */
export function createServices(ports: Ports, options: ServicesOptions = {}): AppServices {
  const clock = options.clock ?? Date.now;
  const random = options.random ?? randomBytes;
  const config = options.config ?? DEFAULT_CONFIG;
  const auth = new AuthService(ports.accounts, ports.replay, ports.signingKeys, clock, config);
  const push = new WakeupService(options.wakeups, clock, config, options.wakeups?.log ?? discard);
  const notify: NotifyHook | undefined =
    options.notify || push.enabled
      ? {
          notifier: wakingNotifier(options.notify?.notifier, push),
          log: options.notify?.log ?? options.wakeups?.log ?? discard,
        }
      : undefined;
  const tokens = new TokenService(options.tokens, ports.signingKeys, ports.limiter, clock, config);
  return {
    auth,
    accounts: new AccountService(
      ports.accounts,
      ports.prekeys,
      ports.replay,
      ports.limiter,
      auth,
      clock,
      config,
      options.wakeups?.subscriptions,
    ),
    prekeys: new PrekeyService(ports.accounts, ports.prekeys, ports.limiter, clock, config, tokens),
    certificates: new CertificateService(ports.signingKeys, clock, config),
    messages: new MessageService(
      ports.accounts,
      ports.index,
      ports.blobs,
      ports.limiter,
      clock,
      config,
      random,
      notify,
      ports.blocks,
      new DeliveryStamps(ports.signingKeys),
      tokens,
      ports.payloads,
    ),
    push,
    attachments: new AttachmentService(options.attachments, ports.limiter, clock, config, random),
    reports: new ReportService(
      options.moderation?.reports,
      options.reportVerifier ?? new FrankingReportVerifier(ports.signingKeys, config),
      ports.limiter,
      clock,
      config,
      options.log ?? discard,
    ),
    suspensions: new SuspensionService(
      options.moderation?.suspensions,
      ports.signingKeys,
      clock,
      config,
    ),
    blocks: new BlockService(ports.blocks),
    tokens,
  };
}
