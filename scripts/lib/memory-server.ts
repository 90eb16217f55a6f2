/**
 * The local API over the in-memory adapters, for `npm start` and `npm run demo` on a machine
 * without Java. It is what `startLocalServer` (functions/api/local.ts) serves without emulator
 * endpoints, composed here so the demo can look at the storage it keeps: the signing material
 * still lives in the data directory, so the trust root survives a restart; accounts and
 * messages do not.
 */
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { createMemoryPorts, type MemoryPorts } from '#functions/adapters/memory-ports.ts';
import { buildApp } from '#functions/api/app.ts';
import { createServices } from '#functions/api/compose.ts';
import { type LocalServer, loadOrCreateSigningMaterial } from '#functions/api/local.ts';
import { createNodeServer } from '#functions/api/node-http.ts';
import { DEFAULT_CONFIG } from '#functions/domain/config.ts';
import { StaticSigningKeyProvider } from '#functions/domain/signing-material.ts';
import { toBase64Url } from '#sdk/util/bytes.ts';

/** A running in-memory server and the storage behind it. */
export interface MemoryServer extends LocalServer {
  readonly ports: MemoryPorts;
}

/**
 * Serves the app over fresh in-memory ports on 127.0.0.1.
 *
 * @throws {Error} if the port cannot be bound (`EADDRINUSE`).
 * @example const server = await startMemoryServer({ port: 0, dataDir: '.local', log: () => {} });
 */
export async function startMemoryServer(options: {
  readonly port: number;
  readonly dataDir: string;
  readonly log: (line: string) => void;
}): Promise<MemoryServer> {
  const signing = await loadOrCreateSigningMaterial(resolve(options.dataDir));
  const ports = createMemoryPorts(new StaticSigningKeyProvider(signing));
  const app = buildApp({
    services: createServices(ports, { config: DEFAULT_CONFIG }),
    log: options.log,
    stage: 'local',
  });
  const hostname = '127.0.0.1';
  const server = createNodeServer(app.fetch, { hostname });
  return new Promise((resolveServer, reject) => {
    server.once('error', reject);
    server.listen(options.port, hostname, () => {
      server.off('error', reject);
      const { port } = server.address() as AddressInfo;
      resolveServer({
        url: `http://${hostname}:${port}`,
        trustRoot: toBase64Url(signing.trustRoot),
        ports,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}
