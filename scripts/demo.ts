/**
 * `npm run demo`: Alice and Bob (Bob with a laptop and a phone) against the local stack,
 * starting it if it is not running. Registers, starts the conversation with a sealed message
 * request paid with an anonymous token, exchanges messages both ways, sends while Bob is
 * offline, shows what the server stores (ciphertext naming no sender, receipt time to the hour)
 * and that nothing is left once Bob acknowledged, and compares safety numbers. Exits 0 on
 * success, stopping whatever it started. Without Java (or with `SEALPOST_ENGINE=memory`) the
 * stack it starts runs on the in-memory engine, which it says in one line.
 */
import { SealpostClient } from '#sdk/client/client.ts';
import type { IncomingMessage } from '#sdk/client/receiver.ts';
import { MemoryStore } from '#sdk/state/memory-store.ts';
import { inspectAws, inspectMemory } from './lib/storage-view.ts';
import {
  chooseEngine,
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
      : `${m.sealed ? 'sealed' : 'identified'}${m.request ? ' request' : ''} from ${short(m.sender.address)} device ${m.sender.deviceId}`;
    const body = m.text ?? `<${m.body.length} bytes>`;
    say(`   ${who} ← [${how}] ${body.length > 60 ? `${body.slice(0, 57)}...` : body}`);
    for (const a of m.attachments) {
      say(
        `   ${' '.repeat(who.length)}   + ${a.fileName ?? 'file'} (${a.contentType}, ${a.size} bytes)`,
      );
    }
  }
}

async function stack(): Promise<{ info: StackInfo; started?: LocalStack }> {
  const dataDir = process.env['SEALPOST_DATA_DIR'] ?? DEFAULT_DATA_DIR;
  const running = await findRunningStack(dataDir);
  if (running) {
    say(`Using the running local stack at ${running.url}.`);
    return { info: running };
  }
  const { engine, notice } = chooseEngine(process.env);
  if (notice) say(notice);
  say(
    engine === 'memory'
      ? 'Starting the local API...'
      : 'Starting the local stack (DynamoDB Local, s3rver, API)...',
  );
  const wanted = Number(process.env['SEALPOST_PORT'] ?? DEFAULT_PORT);
  const port = (await portFree(wanted)) ? wanted : 0;
  const started = await startLocalStack({ port, dataDir, engine });
  say(`Started at ${started.url}; it stops when the demo ends.`);
  return { info: started, started };
}

/** Shows the recipient's stored messages; the number of records that reveal too much. */
async function inspectStorage(
  info: StackInfo,
  started: LocalStack | undefined,
  recipient: string,
  sender: string,
  secrets: string[],
): Promise<number> {
  const x = { recipient, sender, secrets, say };
  if (started?.memory) return inspectMemory(started.memory, x);
  const { dynamodb, s3, table, bucket } = info;
  if (dynamodb && s3 && table && bucket) return inspectAws({ dynamodb, s3, table, bucket }, x);
  say('   (the running stack keeps them in its own memory; stop it to let the demo show them)');
  return 0;
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

    const tokens = await alice.refillTokens();
    say(
      `   Alice's device holds ${tokens} anonymous tokens (Privacy Pass, blind RSA): the server signed them blind,`,
    );
    say(
      '   so it cannot tell which account spends one. Apps get them ahead of need, at random times.',
    );

    step(2, 'Alice writes to Bob. She only knows his address, not his delivery access key');
    const first = await alice.send(bobLaptop.address, 'Hi Bob, it is Alice!');
    say(
      `   Sent sealed as a message request to ${first.recipientDevices} devices, paid with one token instead of`,
    );
    say(
      `   Bob's access key (${await alice.tokenCount()} left): the server learns neither the sender nor who fetched Bob's keys.`,
    );

    step(3, 'Bob sees a message request on both devices; nothing goes back until he accepts');
    show('Bob laptop', (await bobLaptop.receiveBatch()).messages);
    show('Bob phone ', (await bobPhone.receiveBatch()).messages);
    await bobLaptop.acceptRequest(alice.address);
    say('   Bob accepts on his laptop; on his phone, replying accepts. The request carried');
    say('   Alice’s access key, so he answers sealed.');
    const reply = await bobPhone.send(alice.address, 'Hi Alice! Writing from my phone.');
    say(
      `   Bob's phone replies sealed to ${reply.recipientDevices} device(s); the copy for his laptop is ${reply.sync}.`,
    );
    say('   (A copy goes out on its own after a random 2-60 s delay; the demo flushes it now.)');
    await bobPhone.flushOutbox();
    show('Alice     ', (await alice.receiveBatch()).messages);
    show('Bob laptop', (await bobLaptop.receiveBatch()).messages);

    step(4, 'Bob goes offline; Alice sends a note and a 3 MiB photo (sealed)');
    const secret = 'The meeting moved to Thursday 10:00.';
    await alice.send(bobLaptop.address, secret);
    const photo = new Uint8Array(3 * 1024 * 1024).map((_, i) => (i * 31) & 0xff);
    let sent = 0;
    await alice.send(
      bobLaptop.address,
      {
        text: 'The whiteboard from today',
        attachments: [{ data: photo, fileName: 'whiteboard.jpg', contentType: 'image/jpeg' }],
      },
      {
        onProgress: (bytes) => {
          sent = bytes;
        },
      },
    );
    say(
      `   The photo was encrypted on Alice's device and uploaded straight to object storage (${sent} bytes, padded);`,
    );
    say('   its key, digest, name and type travel only inside the end-to-end encrypted message.');
    say('   What the server stores for Bob now:');
    const leaks = await inspectStorage(info, started, bobLaptop.address, alice.address, [secret]);

    step(5, 'Bob comes back online and catches up on both devices');
    const laptopBatch = (await bobLaptop.receiveBatch()).messages;
    show('Bob laptop', laptopBatch);
    show('Bob phone ', (await bobPhone.receiveBatch()).messages);
    const received = laptopBatch.flatMap((m) => m.attachments)[0];
    const downloaded = received ? await received.bytes() : new Uint8Array();
    const same = downloaded.length === photo.length && downloaded.every((b, i) => b === photo[i]);
    say(
      same
        ? `   Bob's laptop downloaded the photo and verified it chunk by chunk: ${downloaded.length} bytes, identical.`
        : '   ✗ The downloaded photo differs!',
    );
    say('   What the server stores for Bob after both devices acknowledged:');
    const after = await inspectStorage(info, started, bobLaptop.address, alice.address, [secret]);

    step(6, 'Alice and Bob compare safety numbers (in person or by QR code)');
    const a = (await alice.safetyNumber(bobLaptop.address)).displayable;
    const b = (await bobLaptop.safetyNumber(alice.address)).displayable;
    const groups = (s: string) => s.match(/.{5}/g)!.join(' ');
    say(`   Alice sees: ${groups(a)}`);
    say(`   Bob sees:   ${groups(b)}`);
    say(a === b ? '   ✓ They match: no one is in the middle.' : '   ✗ They differ!');
    say('');
    return leaks === 0 && after === 0 && a === b && same ? 0 : 1;
  } finally {
    if (started) await started.close();
  }
}

try {
  process.exitCode = await main();
} catch (err) {
  if (err instanceof JavaMissingError || err instanceof RangeError) {
    process.stderr.write(`error: ${err.message}\n`);
    process.exitCode = 1;
  } else {
    throw err;
  }
}
