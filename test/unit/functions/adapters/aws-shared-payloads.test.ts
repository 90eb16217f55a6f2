/**
 * The composed AWS shared payload store: which release deletes the object, and that the
 * adapters reach the table and bucket they were given, with both clients mocked.
 */
import {
  ConditionalCheckFailedException,
  DeleteItemCommand,
  DynamoDBClient,
  GetItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { DeleteObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { awsPorts } from '#functions/adapters/aws-ports.ts';
import { AwsSharedPayloadStore } from '#functions/adapters/aws-shared-payloads.ts';
import { DynamoPayloadRefs } from '#functions/adapters/dynamodb/index.ts';
import { payloadObjectKey } from '#functions/adapters/s3/object-keys.ts';
import { S3PayloadObjects } from '#functions/adapters/s3/s3-payload-objects.ts';
import { UnavailableError } from '#functions/domain/errors.ts';

const ddb = mockClient(DynamoDBClient);
const s3 = mockClient(S3Client);
const dynamodb = new DynamoDBClient({ region: 'us-east-1' });
const s3Client = new S3Client({ region: 'us-east-1' });
const store = new AwsSharedPayloadStore(
  new DynamoPayloadRefs(dynamodb, 'table'),
  new S3PayloadObjects(s3Client, 'bucket'),
);
const id = new Uint8Array(16).fill(9);
const ref = new Uint8Array(16).fill(1);
const conditionFailed = () =>
  new ConditionalCheckFailedException({ message: 'failed', $metadata: {} });

beforeEach(() => {
  ddb.reset();
  s3.reset();
  s3.on(DeleteObjectCommand).resolves({});
});

describe('AwsSharedPayloadStore.release', () => {
  it('keeps the object while references remain', async () => {
    ddb.on(UpdateItemCommand).resolves({ Attributes: { refs: { BS: [new Uint8Array(16)] } } });
    await store.release(id, ref);
    expect(s3.commandCalls(DeleteObjectCommand)).toHaveLength(0);
  });

  it('deletes the set, then the object, when this release emptied it', async () => {
    const order: string[] = [];
    ddb.on(UpdateItemCommand).resolves({ Attributes: {} });
    ddb.on(DeleteItemCommand).callsFake(() => {
      order.push('set');
      return {};
    });
    s3.on(DeleteObjectCommand).callsFake(() => {
      order.push('object');
      return {};
    });
    await store.release(id, ref);
    expect(order).toEqual(['set', 'object']);
    expect(s3.commandCalls(DeleteObjectCommand).map((c) => c.args[0].input)).toEqual([
      { Bucket: 'bucket', Key: payloadObjectKey(id) },
    ]);
  });

  it('keeps the object when refs were added between emptying and deleting the set', async () => {
    ddb.on(UpdateItemCommand).resolves({ Attributes: {} });
    ddb.on(DeleteItemCommand).rejects(conditionFailed());
    await store.release(id, ref);
    expect(s3.commandCalls(DeleteObjectCommand)).toHaveLength(0);
  });

  it('deletes the object when there is no set at all (cleanup after an interrupted delete)', async () => {
    ddb.on(UpdateItemCommand).rejects(conditionFailed());
    ddb.on(GetItemCommand).resolves({});
    await store.release(id, ref);
    expect(s3.commandCalls(DeleteObjectCommand)).toHaveLength(1);
  });

  it('fails with UnavailableError, without touching the object, when the table is throttled', async () => {
    ddb
      .on(UpdateItemCommand)
      .rejects(Object.assign(new Error('slow'), { name: 'ThrottlingException' }));
    await expect(store.release(id, ref)).rejects.toBeInstanceOf(UnavailableError);
    expect(s3.commandCalls(DeleteObjectCommand)).toHaveLength(0);
  });
});

describe('awsPorts payloads', () => {
  it('keeps reference sets in the table and payloads in the envelopes\u2019 bucket', async () => {
    ddb.on(UpdateItemCommand).resolves({});
    s3.on(PutObjectCommand).resolves({});
    const ports = awsPorts({
      dynamodb,
      s3: s3Client,
      table: 'the-table',
      bucket: 'the-envelope-bucket--use1-az4--x-s3',
      signingKeys: { get: () => Promise.reject(new Error('not used')) },
    });
    await ports.payloads.addRefs(id, [ref], 3_600_000);
    await ports.payloads.put(id, new Uint8Array(53));
    expect(ddb.commandCalls(UpdateItemCommand)[0]!.args[0].input.TableName).toBe('the-table');
    expect(s3.commandCalls(PutObjectCommand)[0]!.args[0].input.Bucket).toBe(
      'the-envelope-bucket--use1-az4--x-s3',
    );
  });
});
