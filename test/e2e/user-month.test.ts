/**
 * The user-month cost bench (bench/service.ts, docs/SERVICE.md §13) prices a trace of real SDK
 * clients on the local stack; this runs a tiny version of that trace (2 users with 2 devices,
 * one message per online device and slot) and checks that the model's per-message counts
 * (bench/cost-model.ts `modelMessageCounts`) are what the code really does, so the figure
 * cannot drift from the code.
 */
import { describe, expect, it } from 'vitest';
import { modelMessageCounts } from '../../bench/cost-model.ts';
import { traceUserDay } from '../../bench/lib/user-month.ts';

describe('user-month trace against the cost model', () => {
  it('counts the requests, S3 calls and frames per message the model prices', async () => {
    const trace = await traceUserDay({ users: 2, messagesPerSlot: 1, textBytes: 1024 });
    // Every device was online in one slot and offline in two: some envelopes were pushed,
    // the others drained at the next connect.
    expect(trace.messages).toBeGreaterThan(0);
    expect(trace.pushed).toBeGreaterThan(0);
    expect(trace.drained).toBeGreaterThan(0);
    const model = modelMessageCounts({
      drainedShare: trace.drained / trace.envelopes,
      drainsPerMessage: trace.drains / trace.messages,
      perDeviceAckFrames: trace.counts.perDeviceAckFrames,
    });
    const { counts } = trace;
    expect(counts.apiRequests).toBe(model.apiRequests);
    expect(counts.routes).toEqual({
      // One shared payload for the contact's two devices; the sync copy to one device.
      'PUT /v1/messages/multi': 1,
      'PUT /v1/messages/:address/identified': 1,
    });
    expect(counts.s3Requests).toBeCloseTo(model.s3Requests, 6);
    // A sync copy's object is deleted with an ack frame that carries it: at most one per copy.
    expect(counts.perDeviceAckFrames).toBeGreaterThan(0);
    expect(counts.perDeviceAckFrames).toBeLessThanOrEqual(1);
    // Acknowledgements are coalesced: one `ack` frame per push and one per drain, fewer than
    // the envelopes since some drain delivered more than one.
    expect(trace.drains).toBeLessThan(trace.drained);
    expect(counts.framesIn.ack).toBeCloseTo(model.wsFramesIn, 5);
    expect(Object.keys(counts.framesIn)).toEqual(['ack']);
    expect(counts.framesIn.ack).toBeLessThan(3);
    expect(counts.framesOut).toEqual({ message: 3, acked: counts.framesIn.ack });
    expect(3 + (counts.framesIn.ack ?? 0)).toBeCloseTo(model.wsFramesOut, 5);
    // Nothing of a message is fetched over HTTP: pushes and drains go over the socket.
    expect(trace.perMessage.http.apiRequests).toBe(2);
    expect(trace.perSession.http.apiRequests).toBe(0);
  }, 120_000);
});
