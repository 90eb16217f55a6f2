#!/usr/bin/env node
/**
 * A command-line chat over Sealpost between two terminals, against `npm start` (or any
 * deployment). Each person is one device whose keys, sessions and contacts live in a
 * `FileStore` under a directory, so a restart picks up where it left off.
 *
 *   node chat.mjs --name alice            # terminal 1: prints Alice's contact card
 *   node chat.mjs --name bob              # terminal 2: /add <Alice's card>, then type
 *
 * In the chat: `/add <card>` adds a contact and talks to it, `/to <name>` switches contact,
 * `/card` prints your card again, `/quit` (or Ctrl-D) leaves; any other line is sent.
 *
 * Without a terminal (scripts, CI):
 *   node chat.mjs --name alice --print-card
 *   node chat.mjs --name bob --add <card> --to alice --send "hi"
 *   node chat.mjs --name alice --receive-once [--wait 10]
 *
 * Server: `--server` and `--trust-root`, else SEALPOST_URL and SEALPOST_TRUST_ROOT, else the
 * `.local/stack.json` that `npm start` writes. State: `--dir`, default `.local/chat/<name>`.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { SealpostClient } from 'sealpost';
import { FileStore } from 'sealpost/file-store';

const CARD_PREFIX = 'sealpost-card:';
const out = (line) => process.stdout.write(`${line}\n`);

const { values: args } = parseArgs({
  options: {
    name: { type: 'string' },
    server: { type: 'string' },
    'trust-root': { type: 'string' },
    dir: { type: 'string' },
    add: { type: 'string', multiple: true },
    to: { type: 'string' },
    send: { type: 'string' },
    'receive-once': { type: 'boolean' },
    wait: { type: 'string', default: '10' },
    'print-card': { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  },
});

/** Where the service is and which trust root to pin. */
async function serverConfig() {
  let url = args.server ?? process.env.SEALPOST_URL;
  let trustRoot = args['trust-root'] ?? process.env.SEALPOST_TRUST_ROOT;
  if (!url || !trustRoot) {
    try {
      const stack = JSON.parse(await readFile('.local/stack.json', 'utf8'));
      url ??= stack.url;
      trustRoot ??= stack.trustRoot;
    } catch {
      // No local stack: the check below explains what to pass.
    }
  }
  if (!url || !trustRoot) {
    throw new Error('no server: run `npm start` first, or pass --server and --trust-root');
  }
  return { url, trustRoot };
}

/** A contact card as one pasteable token: the card plus the name its owner chose. */
function encodeCard(name, card) {
  const json = JSON.stringify({ name, ...card });
  return `${CARD_PREFIX}${Buffer.from(json).toString('base64url')}`;
}

function decodeCard(token) {
  if (!token.startsWith(CARD_PREFIX)) throw new Error(`a card starts with ${CARD_PREFIX}`);
  const { name, address, accessKey } = JSON.parse(
    Buffer.from(token.slice(CARD_PREFIX.length), 'base64url').toString('utf8'),
  );
  return { name: String(name), card: { address, accessKey } };
}

/** Names of contacts, kept next to the store (the SDK keeps their keys). */
class Contacts {
  constructor(file, byAddress) {
    this.file = file;
    this.byAddress = byAddress;
  }
  static async load(file) {
    try {
      return new Contacts(file, JSON.parse(await readFile(file, 'utf8')));
    } catch {
      return new Contacts(file, {});
    }
  }
  async add(name, address) {
    this.byAddress[address] = name;
    await writeFile(this.file, `${JSON.stringify(this.byAddress, null, 2)}\n`);
  }
  nameOf(address) {
    return this.byAddress[address] ?? `${address.slice(0, 8)}…`;
  }
  /** The address of a contact given by name or address. */
  resolve(who) {
    const found = Object.entries(this.byAddress).find(([a, n]) => n === who || a === who);
    if (found) return found[0];
    if (/^[a-z2-7]{32}$/.test(who)) return who;
    throw new Error(`unknown contact "${who}": /add their card first`);
  }
}

function show(contacts, m) {
  const from = m.sync
    ? `you (other device) to ${contacts.nameOf(m.sync.destination)}`
    : contacts.nameOf(m.sender.address);
  out(`${from}${m.sealed ? '' : ' (identified)'}: ${m.text ?? `<${m.body.length} bytes>`}`);
}

async function openClient(name, dir) {
  const { url, trustRoot } = await serverConfig();
  await mkdir(dir, { recursive: true });
  const store = await FileStore.open(join(dir, 'store'));
  const options = { baseUrl: url, store, trust: { trustRoot } };
  try {
    return { client: await SealpostClient.open(options), store };
  } catch (err) {
    if (err?.code !== 'NOT_REGISTERED') {
      await store.close();
      throw err;
    }
  }
  const client = await SealpostClient.register(options).catch(async (err) => {
    await store.close();
    throw err;
  });
  out(`Registered ${name} as ${client.address}.`);
  return { client, store };
}

async function addCard(client, contacts, token) {
  const { name, card } = decodeCard(token.trim());
  await client.addContact(card);
  await contacts.add(name, card.address);
  return { name, address: card.address };
}

/** Fetches until a message arrives or `seconds` pass, printing what came. */
async function receiveOnce(client, contacts, seconds) {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const { messages, failures } = await client.receiveBatch();
    for (const m of messages) show(contacts, m);
    for (const f of failures) out(`(a message could not be read: ${f.error.code})`);
    if (messages.length > 0 || failures.length > 0) return;
    if (Date.now() >= deadline) {
      out('(no messages)');
      return;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}

async function interactive(name, client, contacts) {
  out(`You are ${name} (${client.address}). Your card, for the other side to /add:`);
  out(encodeCard(name, client.contactCard()));
  out('Commands: /add <card>, /to <name>, /card, /quit. Any other line is sent.');
  const stop = new AbortController();
  const rl = createInterface({
    input: process.stdin,
    output: process.stdout,
    terminal: process.stdin.isTTY,
  });
  let peer;
  const prompt = () => rl.setPrompt(peer ? `${contacts.nameOf(peer)}> ` : '> ');
  prompt();
  const receiving = (async () => {
    const stream = client.receive({
      signal: stop.signal,
      onFailure: (f) => out(`(a message could not be read: ${f.error.code})`),
    });
    for await (const m of stream) {
      show(contacts, m);
      rl.prompt(true);
    }
  })().catch((err) => {
    if (!stop.signal.aborted) out(`receiving stopped: ${err.code ?? err.message}`);
  });
  rl.prompt();
  for await (const line of rl) {
    const text = line.trim();
    try {
      if (text === '/quit') break;
      if (text === '/card') out(encodeCard(name, client.contactCard()));
      else if (text.startsWith('/add ')) {
        const added = await addCard(client, contacts, text.slice(5));
        peer = added.address;
        out(`Added ${added.name}; you are now talking to ${added.name}.`);
      } else if (text.startsWith('/to ')) peer = contacts.resolve(text.slice(4).trim());
      else if (text) {
        if (!peer) throw new Error('no contact yet: /add their card first');
        await client.send(peer, text);
      }
    } catch (err) {
      out(`error: ${err.code ? `${err.code}: ` : ''}${err.message}`);
    }
    prompt();
    rl.prompt();
  }
  stop.abort();
  rl.close();
  await receiving;
}

async function main() {
  if (args.help || !args.name) {
    out('usage: chat.mjs --name <you> [--server URL --trust-root=KEY] [--dir DIR]');
    out(
      '       [--print-card] [--add CARD]... [--to NAME --send TEXT] [--receive-once [--wait S]]',
    );
    return args.help ? 0 : 2;
  }
  const name = args.name;
  const dir = args.dir ?? join('.local', 'chat', name);
  const { client, store } = await openClient(name, dir);
  const contacts = await Contacts.load(join(dir, 'contacts.json'));
  try {
    for (const token of args.add ?? []) {
      const added = await addCard(client, contacts, token);
      out(`Added ${added.name} (${added.address}).`);
    }
    const scripted = args['print-card'] || args.send !== undefined || args['receive-once'];
    if (args['print-card']) out(encodeCard(name, client.contactCard()));
    if (args.send !== undefined) {
      if (!args.to) throw new Error('--send needs --to <name or address>');
      const result = await client.send(contacts.resolve(args.to), args.send);
      out(
        `Sent to ${contacts.nameOf(contacts.resolve(args.to))} (${result.recipientDevices} device(s)).`,
      );
    }
    if (args['receive-once']) await receiveOnce(client, contacts, Number(args.wait));
    if (!scripted) await interactive(name, client, contacts);
    return 0;
  } finally {
    client.close();
    await store.close();
  }
}

try {
  process.exitCode = await main();
} catch (err) {
  process.stderr.write(`error: ${err.code ? `${err.code}: ` : ''}${err.message}\n`);
  process.exitCode = 1;
}
