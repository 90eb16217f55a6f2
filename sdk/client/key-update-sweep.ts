/**
 * The retry of a refused sealed send (docs/SDK.md, "Blocking and access keys"). A contact that
 * rotated its access key sends us the new one as a key update; a sealed send of ours that
 * raced it is refused (`401`) with the old key. Before giving up, `send` pulls one page of this
 * device's pending messages through the receive loop and commits the key updates among them
 * (and drops what blocked accounts sent, as every receive does), without committing or
 * acknowledging anything else: a message for the app is handed back unfinished (its ratchet
 * step is not committed; a later step of the same chain keeps its key as a skipped key) and a
 * message that fails is left for the app's receive to report. If the recipient's key changed,
 * `send` tries once more.
 */
import { constantTimeEqual } from '../util/bytes.ts';
import { MAX_FETCH_BATCH } from '../wire/api/limits.ts';
import type { CallOptions } from './call-options.ts';
import type { ClientState } from './client-state.ts';
import type { SealpostHttpClient } from './http-client.ts';
import type { MessagePump } from './receive-common.ts';

/**
 * Commits the key updates among this device's pending messages and tells whether `address`'s
 * access key changed.
 *
 * @throws {ApiError | NetworkError | AbortedError} if the fetch or the acknowledgement fails.
 * @example if (await pullKeyUpdate({ pump: loop, http, state }, bob)) await sendAgain();
 */
export async function pullKeyUpdate(
  ctx: {
    readonly pump: MessagePump;
    readonly http: SealpostHttpClient;
    readonly state: ClientState;
  },
  address: string,
  call?: CallOptions,
): Promise<boolean> {
  const before = await ctx.state.accessKey(address);
  const page = await ctx.http.fetchMessages({ limit: MAX_FETCH_BATCH }, call);
  const done = new Set<string>();
  const options = {
    ...call,
    // A failure is acknowledged by the receive that reports it to the app, not here.
    onFailure: (failure: { readonly id: string }) => done.delete(failure.id),
  };
  for (const delivered of page.messages) {
    // A message that reaches this loop is the app's: leaving the loop hands it back.
    for await (const _ of ctx.pump.deliver(delivered, options, (id) => done.add(id))) break;
  }
  if (done.size > 0) await ctx.http.ackMessages([...done], call);
  const after = await ctx.state.accessKey(address);
  return after !== undefined && (before === undefined || !constantTimeEqual(before, after));
}
