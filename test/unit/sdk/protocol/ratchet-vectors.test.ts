import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { nobleBackend } from '#sdk/crypto/noble-backend.ts';
import { nodeBackend } from '#sdk/crypto/node-backend.ts';
import { webBackend } from '#sdk/crypto/web-backend.ts';
import { toHex } from '#sdk/util/bytes.ts';
import {
  playRatchetSchedule,
  RATCHET_VECTOR_SCHEDULE,
} from '../../../../scripts/lib/ratchet-schedule.ts';

const file = JSON.parse(
  readFileSync(new URL('../../../vectors/ratchet.json', import.meta.url), 'utf8'),
) as {
  inputs: Record<string, string>;
  steps: { op: string; plaintext?: string; message?: string }[];
};

describe('Double Ratchet vectors (test/vectors/ratchet.json)', () => {
  it('the schedule delivers every sent message once, with its plaintext', () => {
    const sent = RATCHET_VECTOR_SCHEDULE.map((s) => (s.op === 'send' ? s.plaintext : undefined));
    const delivered = RATCHET_VECTOR_SCHEDULE.flatMap((s) =>
      s.op === 'receive' ? [s.message] : [],
    );
    expect(new Set(delivered).size).toBe(delivered.length);
    RATCHET_VECTOR_SCHEDULE.forEach((s, i) => {
      if (s.op === 'receive') expect(file.steps[i]!.plaintext).toBe(sent[s.message]);
    });
  });

  for (const backend of [nobleBackend, nodeBackend, webBackend]) {
    it(`${backend.name} reproduces every message byte for byte`, async () => {
      const played = await playRatchetSchedule(backend);
      expect(toHex(played.inputs.sk)).toBe(file.inputs.sk);
      expect(toHex(played.inputs.ad)).toBe(file.inputs.ad);
      played.records.forEach((r, i) => {
        const step = file.steps[i]!;
        if ('message' in r) expect(r.message).toBe(step.message);
        else expect(r.plaintext).toBe(step.plaintext);
      });
    });
  }
});
