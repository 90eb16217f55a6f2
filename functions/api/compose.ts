/**
 * Wires ports into domain services. Shared by the Lambda composition root, the local server
 * and the tests, so all three run the same object graph.
 */
import { AccountService } from '../domain/account-service.ts';
import { AuthService } from '../domain/auth-service.ts';
import { CertificateService } from '../domain/certificate-service.ts';
import { DEFAULT_CONFIG, type ServiceConfig } from '../domain/config.ts';
import { randomBytes } from '../domain/crypto.ts';
import type { Random } from '../domain/mailbox-positions.ts';
import { MessageService } from '../domain/message-service.ts';
import type { Clock, Ports } from '../domain/ports.ts';
import { PrekeyService } from '../domain/prekey-service.ts';
import type { NotifyHook } from '../domain/realtime-ports.ts';
import type { AppServices } from './env.ts';

export type { Ports };

/**
 * The domain services over `ports`.
 *
 * @example createServices(memoryPorts(signingKeys), { clock: () => 0 })
 */
export function createServices(
  ports: Ports,
  options: { clock?: Clock; config?: ServiceConfig; random?: Random; notify?: NotifyHook } = {},
): AppServices {
  const clock = options.clock ?? Date.now;
  const random = options.random ?? randomBytes;
  const config = options.config ?? DEFAULT_CONFIG;
  const auth = new AuthService(ports.accounts, ports.replay, ports.signingKeys, clock, config);
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
    ),
    prekeys: new PrekeyService(ports.accounts, ports.prekeys, ports.limiter, clock, config),
    certificates: new CertificateService(ports.signingKeys, clock, config),
    messages: new MessageService(
      ports.accounts,
      ports.index,
      ports.blobs,
      ports.limiter,
      clock,
      config,
      random,
      options.notify,
    ),
  };
}
