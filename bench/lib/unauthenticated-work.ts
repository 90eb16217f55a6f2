/**
 * Worst-case work one forged ratchet message can make a receiver do before it fails to
 * authenticate (docs/PROTOCOL.md §5.2.5): a record with a current and 40 archived states, and
 * a message whose fresh ratchet key and counter make every state it is tried on do as much as
 * its limits and the shared budget allow. Prints the median and worst time per message.
 *
 * Run: npx tsx bench/lib/unauthenticated-work.ts [rounds]
 */
import { defaultBackend } from '../../sdk/crypto/index.ts';
import { ProtocolEngine } from '../../sdk/protocol/engine.ts';
import { MAX_ARCHIVED_SKIP, MAX_SKIP } from '../../sdk/protocol/ratchet.ts';
import { MAX_ARCHIVED_STATES } from '../../sdk/protocol/session-record.ts';
import { MemoryStore } from '../../sdk/state/memory-store.ts';
import { encodeRatchetMessage, MESSAGE_TYPE_RATCHET } from '../../sdk/wire/messages.ts';

const backend = defaultBackend;
const trust = { trustRoot: new Uint8Array(32).fill(1), revokedServerKeyIds: [] };

async function fullRecord() {
  const { engine: alice } = await ProtocolEngine.create({ store: new MemoryStore(), trust });
  const { engine: bob } = await ProtocolEngine.create({ store: new MemoryStore(), trust });
  const upload = await bob.generatePrekeys({ oneTime: 0, kem: 0 });
  const bundle = {
    address: bob.address,
    deviceId: 1,
    identity: bob.identity,
    signedPrekey: upload.signedPrekey!,
    kemPrekey: upload.lastResortKemPrekey!,
    // As the service serves it. No moderator certificate is needed: nothing here is sealed,
    // and a forged message fails in the session before any franking check would run.
    frankingKey: bob.frankingPublicKey,
  };
  // Each start archives the previous state: one current and 40 archived, all bound to Bob.
  for (let i = 0; i <= MAX_ARCHIVED_STATES; i++) await alice.startSession(bob.address, bundle);
  return { alice, bobPeer: { address: bob.address, deviceId: 1 } };
}

function forged(counter: number): Uint8Array {
  return encodeRatchetMessage({
    ratchetKey: crypto.getRandomValues(new Uint8Array(32)),
    previousCounter: 0,
    counter,
    ciphertext: crypto.getRandomValues(new Uint8Array(16)),
  });
}

async function main(): Promise<void> {
  const rounds = Number(process.argv[2] ?? 20);
  const { alice, bobPeer } = await fullRecord();
  for (const [name, counter] of [
    ['current state at its jump limit', MAX_SKIP],
    ['every state at the archived jump limit', MAX_ARCHIVED_SKIP],
  ] as const) {
    const times: number[] = [];
    for (let i = 0; i < rounds; i++) {
      const body = forged(counter);
      const t = performance.now();
      await alice.decrypt(bobPeer, MESSAGE_TYPE_RATCHET, body).catch(() => undefined);
      times.push(performance.now() - t);
    }
    times.sort((a, b) => a - b);
    const median = times[Math.floor(times.length / 2)]!;
    const worst = times[times.length - 1]!;
    console.log(
      `${name} (${backend.name} backend, Node ${process.versions.node}): ` +
        `median ${median.toFixed(1)} ms, worst ${worst.toFixed(1)} ms per message`,
    );
  }
}

await main();
