/**
 * The parts of a `SealpostClient` wired from its options (docs/SDK.md): the store's typed view,
 * the sender-certificate cache, the send path (fan-out and outbox) and the receive loop. Kept
 * apart from client.ts so the class holds only its public API.
 */
import { systemRng } from '../crypto/backend.ts';
import { defaultBackend } from '../crypto/index.ts';
import type { ProtocolEngine } from '../protocol/engine.ts';
import { REALTIME_PATH } from '../wire/api/realtime.ts';
import { ClientAttachments } from './attachments/client-attachments.ts';
import { CertificateCache } from './certificate-cache.ts';
import type { ClientOptions } from './client-options.ts';
import { ClientState, type Registration } from './client-state.ts';
import { Fanout } from './fanout.ts';
import type { SealpostHttpClient } from './http-client.ts';
import type { RealtimeConfig } from './realtime-loop.ts';
import { realtimeEndpoint, webSocketClass } from './realtime-socket.ts';
import { ReceiveLoop } from './receive-loop.ts';
import { seedSigner, signRequest } from './request-signing.ts';
import { MessageSender } from './sender.ts';

/** What a client is made of besides its engine and HTTP client. */
export interface ClientParts {
  readonly state: ClientState;
  readonly certificates: CertificateCache;
  readonly sender: MessageSender;
  readonly loop: ReceiveLoop;
  readonly attachments: ClientAttachments;
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
  const certificates = new CertificateCache({
    http,
    state,
    backend,
    trust: engine.trust,
    now,
    self: registration,
    dhPublic: engine.identity.dhPublic,
  });
  const fanout = new Fanout({
    engine,
    http,
    state,
    certificates,
    backend,
    self: registration,
    onDeviceChange: options.onDeviceChange,
  });
  const sender = new MessageSender({
    fanout,
    state,
    self: registration,
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
  });
  return { state, certificates, sender, loop, attachments };
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
