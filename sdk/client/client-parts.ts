/**
 * The parts of a `SealpostClient` wired from its options (docs/SDK.md): the store's typed view,
 * the sender-certificate cache, the send path (fan-out and outbox) and the receive loop. Kept
 * apart from client.ts so the class holds only its public API.
 */
import { systemRng } from '../crypto/backend.ts';
import { defaultBackend } from '../crypto/index.ts';
import type { ProtocolEngine } from '../protocol/engine.ts';
import { REALTIME_PATH } from '../wire/api/realtime.ts';
import { decodeSenderCertificate } from '../wire/certificates.ts';
import { ClientAttachments } from './attachments/client-attachments.ts';
import { CertificateCache } from './certificate-cache.ts';
import type { ClientOptions } from './client-options.ts';
import { ClientState, type Registration } from './client-state.ts';
import { Fanout } from './fanout.ts';
import type { SealpostHttpClient } from './http-client.ts';
import { Moderators } from './moderators.ts';
import type { RealtimeConfig } from './realtime-loop.ts';
import { realtimeEndpoint, webSocketClass } from './realtime-socket.ts';
import { ReceiveLoop } from './receive-loop.ts';
import { ReportIntake } from './report-intake.ts';
import { ReportStore, reportPolicy } from './report-store.ts';
import { ClientReporting } from './reporting.ts';
import { seedSigner, signRequest } from './request-signing.ts';
import { Revocations, revocationRefreshMs } from './revocations.ts';
import { MessageSender } from './sender.ts';
import { TokenWallet, tokenPolicy } from './token-wallet.ts';

/** What a client is made of besides its engine and HTTP client. */
export interface ClientParts {
  readonly state: ClientState;
  readonly certificates: CertificateCache;
  readonly sender: MessageSender;
  readonly loop: ReceiveLoop;
  readonly attachments: ClientAttachments;
  /** Franking, reports and suspensions (docs/SDK.md §Reporting). */
  readonly reporting: ClientReporting;
  /** Anonymous tokens for message requests (docs/SDK.md §Message requests). */
  readonly wallet: TokenWallet;
}

/**
 * Builds the parts of the client of `registration`.
 *
 * @example const { sender, loop } = clientParts(engine, http, registration, options);
 */
export function clientParts(
  engine: ProtocolEngine,
  http: SealpostHttpClient,
  registration: Registration,
  options: ClientOptions,
): ClientParts {
  const backend = options.backend ?? defaultBackend;
  const now = options.now ?? Date.now;
  const rng = options.rng ?? systemRng;
  const state = new ClientState(options.store);
  const reporting = reportingParts(engine, http, state, options);
  const { moderators } = reporting;
  const certificates = new CertificateCache({
    http,
    state,
    backend,
    trust: engine.trust,
    now,
    self: registration,
    dhPublic: engine.identity.dhPublic,
    frankingKey: engine.frankingPublicKey,
    moderators,
  });
  const fanout = new Fanout({
    engine,
    http,
    state,
    certificates,
    backend,
    self: registration,
    onDeviceChange: options.onDeviceChange,
    moderators,
  });
  const wallet = new TokenWallet({
    http,
    store: options.store,
    backend,
    trust: engine.trust,
    rng,
    now,
    policy: tokenPolicy(options.tokens),
    timer: options.tokens?.timer ?? options.outbox?.timer,
    ownServerCertificate: () => ownServerCertificate(state),
  });
  const sender = new MessageSender({
    fanout,
    state,
    self: registration,
    wallet,
    rng,
    now,
    outbox: options.outbox,
  });
  const attachments = new ClientAttachments({
    http,
    store: options.store,
    backend,
    rng,
    now,
    fetch: options.fetch,
    timeoutMs: options.timeoutMs,
  });
  const loop = new ReceiveLoop({
    engine,
    http,
    state,
    backend,
    self: registration,
    now,
    rng,
    onDeviceChange: options.onDeviceChange,
    realtime: realtimeConfig(engine, http, registration, options),
    attachments,
    intake: reporting.intake,
  });
  return { state, certificates, sender, loop, attachments, reporting, wallet };
}

/**
 * The moderator certificates, openings store and revocation list of a client.
 *
 * @throws {ArgumentRangeError} if `reportRetentionDays`, `maxReportableMessages` or
 *   `revocationRefreshMs` is out of range.
 */
function reportingParts(
  engine: ProtocolEngine,
  http: SealpostHttpClient,
  state: ClientState,
  options: ClientOptions,
): ClientReporting {
  const now = options.now ?? Date.now;
  const { store } = options;
  const moderators = new Moderators({ engine, http, store, now });
  const reports = new ReportStore({ store, now, policy: reportPolicy(options) });
  const revocations = new Revocations({
    http,
    store,
    backend: options.backend ?? defaultBackend,
    trust: engine.trust,
    now,
    refreshMs: revocationRefreshMs(options.revocationRefreshMs),
    ownServerCertificate: () => ownServerCertificate(state),
  });
  const intake = new ReportIntake({ reports, revocations, moderators, now });
  return new ClientReporting({ http, reports, moderators, revocations, intake });
}

/** The server certificate this device's own sender certificate chains through, if cached. */
async function ownServerCertificate(state: ClientState): Promise<Uint8Array | undefined> {
  try {
    const cached = await state.certificate();
    return cached && decodeSenderCertificate(cached.certificate).serverCertificate;
  } catch {
    return undefined;
  }
}

/** The receive loop's WebSocket settings, or undefined when it polls. */
function realtimeConfig(
  engine: ProtocolEngine,
  http: SealpostHttpClient,
  registration: Registration,
  options: ClientOptions,
): RealtimeConfig | undefined {
  const webSocket = webSocketClass(options.webSocket);
  if (!webSocket) return undefined;
  const backend = options.backend ?? defaultBackend;
  const signer = seedSigner(
    backend,
    registration.address,
    registration.deviceId,
    engine.signer.signingSeed,
  );
  return {
    webSocket,
    url: realtimeEndpoint(options.baseUrl, options.realtimeUrl),
    // Signed like an HTTP request: the clock corrected by a `CLOCK_SKEW`, a fresh nonce each.
    sign: () =>
      signRequest(
        {
          backend,
          rng: options.rng ?? systemRng,
          now: () => http.serverNow(),
          signer,
          audience: http.trustRoot,
        },
        'GET',
        REALTIME_PATH,
        new Uint8Array(0),
      ),
  };
}
