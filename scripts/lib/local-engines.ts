/**
 * What the local stack (`npm start`, `npm run demo`) and the tests' local AWS share: the
 * s3rver constructor (the package ships no types), the dummy credentials both engines accept,
 * a free loopback port, and waiting for DynamoDB Local to answer.
 */
import type { ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';

export const LOCAL_REGION = 'us-east-1';
/** s3rver's fixed credentials; DynamoDB Local accepts any. */
export const LOCAL_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

/** The part of s3rver's API used here. */
export interface S3rverInstance {
  run(): Promise<unknown>;
  close(): Promise<void>;
}
export type S3rverConstructor = new (options: {
  address: string;
  port: number;
  silent: boolean;
  directory: string;
  configureBuckets: { name: string; configs: string[] }[];
}) => S3rverInstance;

/** s3rver is CommonJS without types. */
export const S3rver = createRequire(import.meta.url)('s3rver') as S3rverConstructor;

/** A free TCP port on 127.0.0.1 (closed again before it is returned). */
export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

/**
 * Polls DynamoDB Local until it answers (it takes a few seconds to start).
 *
 * @throws {Error} if the process exits or nothing answers within 60 s.
 */
export async function waitForDynamo(endpoint: string, proc: ChildProcess): Promise<void> {
  const client = new DynamoDBClient({
    endpoint,
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
  });
  const deadline = Date.now() + 60_000;
  try {
    for (;;) {
      if (proc.exitCode !== null) throw new Error(`DynamoDB Local exited with ${proc.exitCode}`);
      try {
        await client.send(new ListTablesCommand({}));
        return;
      } catch (err) {
        if (Date.now() > deadline) throw err;
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  } finally {
    client.destroy();
  }
}
