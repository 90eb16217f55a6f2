/**
 * The real app over DynamoDB Local and s3rver with every AWS request metered (./meter.ts): the
 * adapters of a deployment on metered clients, the test harness's app on them, and `timed`, which
 * sends one API request, counts it with its handler time and bytes, and fails on anything but
 * 200. Shared by the message cost model (bench/service.ts) and the first-contact cost
 * (./token-cost.ts).
 */
import { awsPorts, awsTokenPorts } from '../../functions/adapters/aws-ports.ts';
import { StaticSigningKeyProvider } from '../../functions/domain/signing-material.ts';
import {
  type Call,
  type CallResult,
  harness,
  testMaterial,
} from '../../test/unit/functions/fixtures.ts';
import { type Endpoints, Meter, meteredClients } from './meter.ts';

/** Options of the harness, with `tokens: true` for token stores on the metered table. */
export type MeteredHarnessOptions = Omit<NonNullable<Parameters<typeof harness>[1]>, 'tokens'> & {
  readonly tokens?: boolean;
};

/**
 * @example
 * const { meter, h, timed, close } = meteredHarness(endpoints, { start: Date.now() });
 * meter.active = true; await timed({ method: 'GET', path: '/v1/health' });
 */
export function meteredHarness(endpoints: Endpoints, options: MeteredHarnessOptions = {}) {
  const meter = new Meter();
  const { dynamodb, s3 } = meteredClients(endpoints, meter);
  const ports = awsPorts({
    dynamodb,
    s3,
    table: endpoints.table,
    bucket: endpoints.bucket,
    signingKeys: new StaticSigningKeyProvider(testMaterial()),
  });
  const { tokens, ...rest } = options;
  const h = harness(ports, {
    ...rest,
    ...(tokens ? { tokens: awsTokenPorts({ dynamodb, table: endpoints.table }) } : {}),
  });
  const timed = async (call: Call): Promise<CallResult> => {
    const started = performance.now();
    const res = await h.call(call);
    meter.apiRequest(started, call.json, res.body);
    if (res.status !== 200) throw new Error(`${call.method} ${call.path}: ${res.status}`);
    return res;
  };
  const close = () => {
    dynamodb.destroy();
    s3.destroy();
  };
  return { meter, h, timed, close };
}
