/**
 * `npm run demo`: Alice and Bob (Bob with a laptop and a phone) against the local stack,
 * starting it if it is not running. Registers, exchanges messages both ways, sends while Bob is
 * offline, shows what the server stores (ciphertext naming no sender, receipt time to the hour)
 * and that nothing is left once Bob acknowledged, and compares safety numbers. Exits 0 on success, stopping whatever it started.
 */
import { DynamoDBClient, ScanCommand, type ScanCommandOutput } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { SealpostClient } from '#sdk/client/client.ts';
import { SealedSendUnauthorizedError } from '#sdk/client/errors.ts';
import type { IncomingMessage } from '#sdk/client/receiver.ts';
import { MemoryStore } from '#sdk/state/memory-store.ts';
import { toHex, utf8 } from '#sdk/util/bytes.ts';
import { addressToBytes } from '#sdk/wire/identity.ts';
import {
  DEFAULT_DATA_DIR,
  DEFAULT_PORT,
  findRunningStack,
  JavaMissingError,
  type LocalStack,
  portFree,
  type StackInfo,
  startLocalStack,
} from './local-stack.ts';

const say = (line = '') => process.stdout.write(`${line}\n`);
const step = (n: number, title: string) => say(`\n${n}. ${title}`);
const short = (address: string) => `${address.slice(0, 8)}…`;

function show(who: string, messages: readonly IncomingMessage[]): void {
  if (messages.length === 0) say(`   ${who}: (no messages)`);
  for (const m of messages) {
    const how = m.sync
      ? `copy of own message to ${short(m.sync.destination)}`
      : `${m.sealed ? 'sealed' : 'identified'} from ${short(m.sender.address)} device ${m.sender.deviceId}`;
    const body = m.text ?? `<${m.body.length} bytes>`;
    say(`   ${who} ← [${how}] ${body.length > 60 ? `${body.slice(0, 57)}...` : body}`);
  }
}

function contains(haystack: Uint8Array, needle: Uint8Array): boolean {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return true;
  }
  return false;
}

async function inspectStorage(info: StackInfo, bob: string, alice: string, secrets: string[]) {
  const credentials = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };
  const dynamodb = new DynamoDBClient({
    endpoint: info.dynamodb,
    region: 'us-east-1',
    credentials,
  });
  const s3 = new S3Client({
    endpoint: info.s3,
    region: 'us-east-1',
    credentials,
    forcePathStyle: true,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  const needles = [utf8(alice), addressToBytes(alice), ...secrets.map((s) => utf8(s))];
  let leaks = 0;
  let stored = 0;
  try {
    // Every page: prekey items (ML-KEM keys are 1.5 KiB each) fill the first megabyte.
    const items: NonNullable<ScanCommandOutput['Items']> = [];
    let start: ScanCommandOutput['LastEvaluatedKey'];
    do {
      const page: ScanCommandOutput = await dynamodb.send(
        new ScanCommand({
          TableName: info.table,
          FilterExpression: 'begins_with(pk, :mbx) AND begins_with(sk, :m)',
          ExpressionAttributeValues: { ':mbx': { S: `mbx#${bob}` }, ':m': { S: 'm#' } },
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      items.push(...(page.Items ?? []));
      stored += page.Items?.length ?? 0;
      start = page.LastEvaluatedKey;
    } while (start);
    const list = await s3.send(new ListObjectsV2Command({ Bucket: info.bucket, Prefix: 'env/' }));
    const objects = new Set((list.Contents ?? []).map((o) => o.Key));
    for (const item of items) {
      const body = item['body']?.B;
      // Only pending messages have records: acknowledgement deletes record and object.
      const where = body
        ? `pending, inline, ${body.length} bytes`
        : `pending, envelope in S3 (${objects.size} objects under env/)`;
      const receivedAt = new Date(Number(item['receivedAt']?.N ?? 0)).toISOString();
      say(`   DynamoDB item ${item['sk']?.S?.slice(0, 14) ?? ''}…: ${where}`);
      say(`     attributes: ${Object.keys(item).sort().join(', ')}; receivedAt ${receivedAt}`);
      if (body) say(`     first bytes: ${toHex(body.subarray(0, 24))}…`);
      if ('sourceAddress' in item) leaks++;
      const text = JSON.stringify(item);
      if (text.includes(alice)) leaks++;
      if (body && needles.some((n) => contains(body, n))) leaks++;
    }
    for (const obj of list.Contents ?? []) {
      if (!obj.Key?.includes(bob)) continue;
      const got = await s3.send(new GetObjectCommand({ Bucket: info.bucket, Key: obj.Key }));
      const bytes = await got.Body!.transformToByteArray();
      say(
        `   S3 object …/${obj.Key.split('/').slice(-2).join('/')}: ${bytes.length} bytes, first ${toHex(bytes.subarray(0, 24))}…`,
      );
      if (needles.some((n) => contains(bytes, n))) leaks++;
    }
  } finally {
    dynamodb.destroy();
    s3.destroy();
  }
  if (stored === 0) say('   (nothing: every message was acknowledged and deleted)');
  say(
    leaks === 0
      ? "   ✓ Neither the items nor the objects contain the plaintext, Alice's address or any sender field."
      : `   ✗ ${leaks} stored record(s) reveal the sender or the plaintext!`,
  );
  return leaks;
}

async function stack(): Promise<{ info: StackInfo; started?: LocalStack }> {
  const dataDir = process.env['SEALPOST_DATA_DIR'] ?? DEFAULT_DATA_DIR;
  const running = await findRunningStack(dataDir);
  if (running) {
    say(`Using the running local stack at ${running.url}.`);
    return { info: running };
  }
  say('Starting the local stack (DynamoDB Local, s3rver, API)...');
  const wanted = Number(process.env['SEALPOST_PORT'] ?? DEFAULT_PORT);
  const port = (await portFree(wanted)) ? wanted : 0;
  const started = await startLocalStack({ port, dataDir });
  say(`Started at ${started.url}; it stops when the demo ends.`);
  return { info: started, started };
}

async function main(): Promise<number> {
  const { info, started } = await stack();
  try {
    say(`Trust root pinned by every client: ${info.trustRoot}`);
    const options = () => ({
      baseUrl: info.url,
      trust: { trustRoot: info.trustRoot },
      store: new MemoryStore(),
    });

    step(
      1,
      'Register Alice, and Bob with two devices (laptop = device 1, phone = linked device 2)',
    );
    const alice = await SealpostClient.register(options());
    const bobLaptop = await SealpostClient.register(options());
    const bobPhone = await SealpostClient.link({
      ...options(),
      account: bobLaptop.exportAccountKey()!,
    });
    say(`   Alice: ${alice.address}`);
    say(`   Bob:   ${bobLaptop.address} (devices ${bobLaptop.deviceId} and ${bobPhone.deviceId})`);
    say('   Each device uploaded 100 one-time X25519 and 100 one-time ML-KEM-1024 prekeys.');

    step(2, 'Alice writes to Bob. She only knows his address, not his delivery access key');
    try {
      await alice.send(bobLaptop.address, 'Hi Bob, it is Alice!');
      say('   unexpected: the sealed send went through');
      return 1;
    } catch (err) {
      if (!(err instanceof SealedSendUnauthorizedError)) throw err;
      say(`   Sealed send refused (${err.code}): the SDK does not fall back silently.`);
    }
    const first = await alice.send(bobLaptop.address, 'Hi Bob, it is Alice!', { identified: true });
    say(
      `   Alice explicitly sends it identified (first contact): ${first.recipientDevices} devices.`,
    );

    step(3, 'Bob reads it on both devices; it carries Alice’s access key, so he can answer sealed');
    show('Bob laptop', (await bobLaptop.receiveBatch()).messages);
    show('Bob phone ', (await bobPhone.receiveBatch()).messages);
    const reply = await bobPhone.send(alice.address, 'Hi Alice! Writing from my phone.');
    say(
      `   Bob's phone replies sealed to ${reply.recipientDevices} device(s); the copy for his laptop is ${reply.sync}.`,
    );
    say('   (A copy goes out on its own after a random 2-60 s delay; the demo flushes it now.)');
    await bobPhone.flushOutbox();
    show('Alice     ', (await alice.receiveBatch()).messages);
    show('Bob laptop', (await bobLaptop.receiveBatch()).messages);

    step(4, 'Bob goes offline; Alice sends a note and an 8 KiB attachment (sealed)');
    const secret = 'The meeting moved to Thursday 10:00.';
    await alice.send(bobLaptop.address, secret);
    const attachment = new Uint8Array(8192).map((_, i) => (i * 31) & 0xff);
    await alice.send(bobLaptop.address, attachment);
    say('   What the server stores for Bob now:');
    const leaks = await inspectStorage(info, bobLaptop.address, alice.address, [secret]);

    step(5, 'Bob comes back online and catches up on both devices');
    show('Bob laptop', (await bobLaptop.receiveBatch()).messages);
    show('Bob phone ', (await bobPhone.receiveBatch()).messages);
    say('   What the server stores for Bob after both devices acknowledged:');
    const after = await inspectStorage(info, bobLaptop.address, alice.address, [secret]);

    step(6, 'Alice and Bob compare safety numbers (in person or by QR code)');
    const a = (await alice.safetyNumber(bobLaptop.address)).displayable;
    const b = (await bobLaptop.safetyNumber(alice.address)).displayable;
    const groups = (s: string) => s.match(/.{5}/g)!.join(' ');
    say(`   Alice sees: ${groups(a)}`);
    say(`   Bob sees:   ${groups(b)}`);
    say(a === b ? '   ✓ They match: no one is in the middle.' : '   ✗ They differ!');
    say('');
    return leaks === 0 && after === 0 && a === b ? 0 : 1;
  } finally {
    if (started) await started.close();
  }
}

try {
  process.exitCode = await main();
} catch (err) {
  if (err instanceof JavaMissingError) {
    process.stderr.write(`error: ${err.message}\n`);
    process.exitCode = 1;
  } else {
    throw err;
  }
}
