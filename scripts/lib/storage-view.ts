/**
 * What `npm run demo` shows of the server's storage for one recipient: the pending records and
 * envelopes, on DynamoDB Local and s3rver or on the in-memory engine, and a count of stored
 * records that would reveal the sender or the plaintext (there should be none).
 */

import { DynamoDBClient, ScanCommand, type ScanCommandOutput } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import type { MemoryPorts } from '#functions/adapters/memory-ports.ts';
import { ENVELOPE_PREFIX, PAYLOAD_PREFIX } from '#functions/deployment.ts';
import { toHex, utf8 } from '#sdk/util/bytes.ts';
import { addressToBytes } from '#sdk/wire/identity.ts';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from './local-engines.ts';

/** Whose storage to look at, and what must not be in it. */
export interface Inspection {
  /** The recipient's address. */
  readonly recipient: string;
  /** The sender's address: no stored record may contain it. */
  readonly sender: string;
  /** Plaintexts that were sent: no stored record may contain them. */
  readonly secrets: readonly string[];
  /** Prints one line. */
  readonly say: (line: string) => void;
}

/** Endpoints and names of the emulators a stack runs on. */
export interface AwsLocation {
  readonly dynamodb: string;
  readonly s3: string;
  readonly table: string;
  readonly bucket: string;
}

function contains(haystack: Uint8Array, needle: Uint8Array): boolean {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return true;
  }
  return false;
}

const needles = (x: Inspection) => [
  utf8(x.sender),
  addressToBytes(x.sender),
  ...x.secrets.map((s) => utf8(s)),
];

function verdict(x: Inspection, stored: number, leaks: number): number {
  if (stored === 0) x.say('   (nothing: every message was acknowledged and deleted)');
  x.say(
    leaks === 0
      ? "   ✓ Neither the items nor the objects contain the plaintext, Alice's address or any sender field."
      : `   ✗ ${leaks} stored record(s) reveal the sender or the plaintext!`,
  );
  return leaks;
}

/**
 * Prints the recipient's DynamoDB items and S3 objects; returns how many reveal the sender.
 *
 * @throws {Error} if the emulators do not answer.
 */
export async function inspectAws(where: AwsLocation, x: Inspection): Promise<number> {
  const dynamodb = new DynamoDBClient({
    endpoint: where.dynamodb,
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
  });
  const s3 = new S3Client({
    endpoint: where.s3,
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
    forcePathStyle: true,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  const hidden = needles(x);
  let leaks = 0;
  let stored = 0;
  try {
    // Every page: prekey items (ML-KEM keys are 1.5 KiB each) fill the first megabyte.
    const items: NonNullable<ScanCommandOutput['Items']> = [];
    let start: ScanCommandOutput['LastEvaluatedKey'];
    do {
      const page: ScanCommandOutput = await dynamodb.send(
        new ScanCommand({
          TableName: where.table,
          FilterExpression: 'begins_with(pk, :mbx) AND begins_with(sk, :m)',
          ExpressionAttributeValues: { ':mbx': { S: `mbx#${x.recipient}` }, ':m': { S: 'm#' } },
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      items.push(...(page.Items ?? []));
      stored += page.Items?.length ?? 0;
      start = page.LastEvaluatedKey;
    } while (start);
    const list = await s3.send(
      new ListObjectsV2Command({ Bucket: where.bucket, Prefix: ENVELOPE_PREFIX }),
    );
    const objects = new Set((list.Contents ?? []).map((o) => o.Key));
    const payloads = await s3.send(
      new ListObjectsV2Command({ Bucket: where.bucket, Prefix: PAYLOAD_PREFIX }),
    );
    for (const item of items) {
      const body = item['body']?.B;
      const payload = item['pay']?.B;
      // Only pending messages have records: acknowledgement deletes record and object.
      const kind = payload
        ? `pending, this device's header inline (${body?.length ?? 0} bytes), shared payload ${toHex(payload).slice(0, 8)}… in S3`
        : body
          ? `pending, inline, ${body.length} bytes`
          : `pending, envelope in S3 (${objects.size} objects under env/)`;
      const receivedAt = new Date(Number(item['receivedAt']?.N ?? 0)).toISOString();
      x.say(`   DynamoDB item ${item['sk']?.S?.slice(0, 14) ?? ''}…: ${kind}`);
      x.say(`     attributes: ${Object.keys(item).sort().join(', ')}; receivedAt ${receivedAt}`);
      if (body) x.say(`     first bytes: ${toHex(body.subarray(0, 24))}…`);
      if ('sourceAddress' in item) leaks++;
      if (JSON.stringify(item).includes(x.sender)) leaks++;
      if (body && hidden.some((n) => contains(body, n))) leaks++;
    }
    for (const obj of list.Contents ?? []) {
      if (!obj.Key?.includes(x.recipient)) continue;
      const got = await s3.send(new GetObjectCommand({ Bucket: where.bucket, Key: obj.Key }));
      const bytes = await got.Body!.transformToByteArray();
      x.say(
        `   S3 object …/${obj.Key.split('/').slice(-2).join('/')}: ${bytes.length} bytes, first ${toHex(bytes.subarray(0, 24))}…`,
      );
      if (hidden.some((n) => contains(bytes, n))) leaks++;
    }
    // Shared payloads (one per multi-recipient send, whoever it went to): in the demo only
    // the recipient's messages are pending.
    for (const obj of payloads.Contents ?? []) {
      const got = await s3.send(new GetObjectCommand({ Bucket: where.bucket, Key: obj.Key }));
      const bytes = await got.Body!.transformToByteArray();
      x.say(
        `   S3 object ${obj.Key?.split('/').slice(0, 1).join('')}/…/${obj.Key?.split('/').at(-1)?.slice(0, 8)}…: shared payload, ${bytes.length} bytes, first ${toHex(bytes.subarray(0, 24))}…`,
      );
      if (hidden.some((n) => contains(bytes, n))) leaks++;
    }
  } finally {
    dynamodb.destroy();
    s3.destroy();
  }
  return verdict(x, stored, leaks);
}

/**
 * Prints the pending records and envelopes of the in-memory engine (only the recipient's are
 * pending in the demo); returns how many reveal the sender.
 *
 * @example const leaks = inspectMemory(stack.memory, { recipient, sender, secrets, say });
 */
export function inspectMemory(ports: MemoryPorts, x: Inspection): number {
  const hidden = needles(x);
  const { records } = ports.index.dump();
  const blobs = [...ports.blobs.objects].filter(([key]) => key.startsWith(`${x.recipient}/`));
  let leaks = 0;
  for (const record of records) {
    const kind = record.payload
      ? `pending, this device's header inline (${record.inline?.length ?? 0} bytes), shared payload ${toHex(record.payload).slice(0, 8)}…`
      : record.inline
        ? `pending, inline, ${record.inline.length} bytes`
        : `pending, envelope in the blob store (${blobs.length} envelopes)`;
    x.say(`   Record ${toHex(record.position)}: ${kind}`);
    x.say(
      `     fields: ${Object.keys(record).sort().join(', ')}; receivedAt ${new Date(record.receivedAt).toISOString()}`,
    );
    if (record.inline) x.say(`     first bytes: ${toHex(record.inline.subarray(0, 24))}…`);
    if (record.source !== undefined) leaks++;
    if (record.inline && hidden.some((n) => contains(record.inline!, n))) leaks++;
  }
  for (const [key, bytes] of blobs) {
    x.say(
      `   Envelope …/${key.split('/').slice(-2).join('/')}: ${bytes.length} bytes, first ${toHex(bytes.subarray(0, 24))}…`,
    );
    if (hidden.some((n) => contains(bytes, n))) leaks++;
  }
  for (const [id, bytes] of ports.payloads.objects) {
    x.say(
      `   Shared payload ${id.slice(0, 8)}…: ${bytes.length} bytes, first ${toHex(bytes.subarray(0, 24))}…`,
    );
    if (hidden.some((n) => contains(bytes, n))) leaks++;
  }
  return verdict(x, records.length, leaks);
}
