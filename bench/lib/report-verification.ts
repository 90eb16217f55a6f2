/**
 * Report verification throughput (docs/SERVICE.md, docs/PROTOCOL.md §11.6): real reports of
 * real sealed messages, made by the SDK through the in-process service, verified again and
 * again by the service's verifier (`FrankingReportVerifier`: window, stamp, commitment,
 * certificate chain, moderator key id, the session key's signature, the judge check) on one
 * thread. Reports come from several senders, so the per-sender key cache is exercised as on a
 * live service, and the moderator key's tables are warm (they are built once per process).
 *
 * Two figures: every report the first of its franking session (a fresh verifier each time, so
 * the judge runs: the worst case), and reports of sessions judged before (one Ed25519
 * verification instead of the judge: the earlier messages of a report, or a second report).
 *
 * Also measured: the whole `POST /v1/reports` route (request signature, JSON, verification of
 * the reported message and two earlier ones, storage in memory), one report per request.
 */

import type { ReportedMessage } from '../../functions/domain/report-ports.ts';
import { FrankingReportVerifier } from '../../functions/domain/report-verifier.ts';
import { TestSealpost } from '../../functions/testing/index.ts';
import type { FetchLike } from '../../sdk/client/index.ts';
import { fromBase64Url } from '../../sdk/util/bytes.ts';

const SENDERS = 4;
const MESSAGES_PER_SENDER = 8;

interface WireReported {
  messageId: string;
  receivedAt: number;
  stamp: string;
  commitment: string;
  openingKey: string;
  content: string;
  senderCertificate: string;
  moderatorKeyId: number;
  sessionKey: string;
  signature: string;
  messageSignature: string;
}

const toReported = (m: WireReported): ReportedMessage => ({
  messageId: fromBase64Url(m.messageId),
  receivedAt: m.receivedAt,
  stamp: fromBase64Url(m.stamp),
  commitment: fromBase64Url(m.commitment),
  openingKey: fromBase64Url(m.openingKey),
  content: fromBase64Url(m.content),
  senderCertificate: fromBase64Url(m.senderCertificate),
  moderatorKeyId: m.moderatorKeyId,
  sessionKey: fromBase64Url(m.sessionKey),
  signature: fromBase64Url(m.signature),
  messageSignature: fromBase64Url(m.messageSignature),
});

/** Verifications per second of the verifier alone, and reports per second through the route. */
export async function measureReportVerification(seconds = 3): Promise<{
  verificationsPerSecond: number;
  knownSessionVerificationsPerSecond: number;
  routeReportsPerSecond: number;
  reports: number;
}> {
  const sealpost = await TestSealpost.start({
    config: { reportRateLimit: { limit: 1_000_000, windowMs: 3_600_000 } },
  });
  const bodies: string[] = [];
  const capturing: FetchLike = async (url, init) => {
    if (init.method === 'POST' && new URL(url).pathname === '/v1/reports' && init.body) {
      bodies.push(
        typeof init.body === 'string'
          ? init.body
          : new TextDecoder().decode(init.body as Uint8Array),
      );
    }
    return sealpost.fetch(url, init);
  };
  const bob = await sealpost.register({ fetch: capturing });
  for (let s = 0; s < SENDERS; s++) {
    const sender = await sealpost.register();
    await sender.addContact(bob.contactCard());
    await bob.addContact(sender.contactCard());
    for (let i = 0; i < MESSAGES_PER_SENDER; i++) await sender.send(bob.address, `message ${i}`);
  }
  const { messages } = await bob.receiveBatch();
  const reporter = { address: bob.address, deviceId: bob.deviceId };

  // The route: each message reported once, with up to two earlier ones of its sender.
  const routeStart = performance.now();
  for (const m of messages) await bob.report(m, { reason: 'spam', includePrevious: 2 });
  const routeSeconds = (performance.now() - routeStart) / 1000;
  const routeReportsPerSecond = messages.length / routeSeconds;

  // The verifier alone, over every reported message, for `seconds`.
  const reported = bodies.map((b) =>
    toReported((JSON.parse(b) as { message: WireReported }).message),
  );
  const config = { reportWindowMs: 30 * 86_400_000 };
  const known = new FrankingReportVerifier(sealpost.ports.signingKeys, config);
  for (const r of reported) {
    const outcome = await known.verify(reporter, r, sealpost.now());
    if (!outcome.ok) throw new Error(`a genuine report did not verify: ${outcome.reason}`);
  }
  const rate = async (verifierFor: () => FrankingReportVerifier) => {
    let done = 0;
    const start = performance.now();
    const until = start + seconds * 1000;
    while (performance.now() < until) {
      await verifierFor().verify(reporter, reported[done % reported.length]!, sealpost.now());
      done++;
    }
    return done / ((performance.now() - start) / 1000);
  };
  const verificationsPerSecond = await rate(
    () => new FrankingReportVerifier(sealpost.ports.signingKeys, config),
  );
  const knownSessionVerificationsPerSecond = await rate(() => known);
  return {
    verificationsPerSecond,
    knownSessionVerificationsPerSecond,
    routeReportsPerSecond,
    reports: reported.length,
  };
}
