/** The local server over HTTP: in memory and over DynamoDB Local + s3rver, with persisted keys. */
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalServer } from '../../functions/api/local.ts';
import { type LocalAws, startLocalAws } from '../helpers/local-aws.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sealpost-local-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('local server', () => {
  it('serves the app and keeps its trust root across restarts', async () => {
    const logs: string[] = [];
    const first = await startLocalServer({ port: 0, dataDir: dir, log: (l) => logs.push(l) });
    const health = await fetch(`${first.url}/v1/health`);
    expect(await health.json()).toEqual({ status: 'ok' });
    const server = await (await fetch(`${first.url}/v1/certificates/server`)).json();
    expect(server.trustRoot).toBe(first.trustRoot);
    await first.close();
    const second = await startLocalServer({ port: 0, dataDir: dir, log: () => {} });
    expect(second.trustRoot).toBe(first.trustRoot);
    await second.close();
    expect((await stat(join(dir, 'signing.json'))).mode & 0o777).toBe(0o600);
    expect(JSON.parse(await readFile(join(dir, 'signing.json'), 'utf8')).version).toBe(1);
    expect(logs.length).toBe(2);
  });

  describe('over DynamoDB Local and s3rver', () => {
    let aws: LocalAws;
    beforeAll(async () => {
      aws = await startLocalAws();
    });
    afterAll(async () => {
      await aws?.stop();
    });

    it('creates its table and bucket and answers', async () => {
      const server = await startLocalServer({
        port: 0,
        dataDir: dir,
        aws: {
          dynamodb: aws.dynamoEndpoint,
          s3: aws.s3Endpoint,
          table: 'local-table',
          bucket: 'local-bucket',
        },
        log: () => {},
      });
      const res = await fetch(`${server.url}/v1/bundles/${'a'.repeat(32)}`);
      expect(res.status).toBe(401);
      await server.close();
    });
  });
});
