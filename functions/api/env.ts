/**
 * The Hono environment of the app: what middleware puts on the context (`c.var`) and what
 * the runtime adapter passes as bindings (`c.env`, the Lambda event and context on AWS).
 */
import type { DeploymentLogLevel } from '../deployment.ts';
import type { AccountService } from '../domain/account-service.ts';
import type { AttachmentService } from '../domain/attachment-service.ts';
import type { AuthService, Caller } from '../domain/auth-service.ts';
import type { BlockService } from '../domain/block-service.ts';
import type { CertificateService } from '../domain/certificate-service.ts';
import type { MessageService } from '../domain/message-service.ts';
import type { PrekeyService } from '../domain/prekey-service.ts';
import type { ReportService } from '../domain/report-service.ts';
import type { SuspensionService } from '../domain/suspension-service.ts';
import type { TokenService } from '../domain/token-service.ts';
import type { WakeupService } from '../domain/wakeup-service.ts';

/** The domain services the routes call. */
export interface AppServices {
  readonly auth: AuthService;
  readonly accounts: AccountService;
  readonly prekeys: PrekeyService;
  readonly certificates: CertificateService;
  readonly messages: MessageService;
  /** Push subscriptions and wake-ups of offline devices. */
  readonly push: WakeupService;
  /** Attachment uploads and downloads (`NOT_CONFIGURED` without attachment ports). */
  readonly attachments: AttachmentService;
  /** Report intake (`NOT_CONFIGURED` without moderation ports and a verifier; §14.1). */
  readonly reports: ReportService;
  /** The signed revocation list of suspended accounts (§14.6). */
  readonly suspensions: SuspensionService;
  /** Block lists (docs/SERVICE.md §4.1). */
  readonly blocks: BlockService;
  /** Anonymous tokens: issuance and key list (`NOT_CONFIGURED` without token ports; §15). */
  readonly tokens: TokenService;
}

/** One structured log line goes to the sink (stdout on Lambda, an array in tests). */
export type LogSink = (line: string) => void;

/** Minimum level written: `debug` < `info` < `warn` < `error` (the deployment contract's). */
export type LogLevel = DeploymentLogLevel;

/** Everything `buildApp` needs. */
export interface AppDeps {
  readonly services: AppServices;
  readonly log: LogSink;
  /** @default 'info' */
  readonly logLevel?: LogLevel;
  /** CloudWatch namespace of the EMF metrics. @default METRICS_NAMESPACE (../deployment.ts) */
  readonly metricsNamespace?: string;
  /** Deployment stage, a metric dimension. @default 'dev' */
  readonly stage?: string;
  /** Generates request ids when the runtime gives none. */
  readonly newRequestId?: () => string;
}

/** Context variables set by middleware. */
export interface AppVariables {
  services: AppServices;
  requestId: string;
  /** Exact request body bytes (empty when there is none). */
  rawBody: Uint8Array;
  /** The authenticated device, on owner-signed routes. */
  caller: Caller;
  /** Error code of a failed request, for the access log. */
  errorCode: string;
}

/** Bindings from `hono/aws-lambda` (absent under `@hono/node-server` and in tests). */
export interface AppBindings {
  lambdaContext?: { awsRequestId?: string };
  /** The API Gateway event; its `body` is how a GET body shows on Lambda (dropped otherwise). */
  event?: { body?: string | null };
}

/** The app's Hono environment. */
export interface AppEnv {
  Variables: AppVariables;
  Bindings: AppBindings;
}
