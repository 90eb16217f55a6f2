/**
 * The reporting part of `SealpostClient` (docs/SDK.md §Reporting): its base class between
 * `ClientBlocking` and the messaging members of client.ts, holding `report` and
 * `deleteConversation`. The parts it uses are wired in client-parts.ts.
 */
import type { ProtocolEngine } from '../protocol/engine.ts';
import type { CallOptions } from './call-options.ts';
import { ClientBlocking } from './client-blocking.ts';
import { type ClientOptions, callOf } from './client-options.ts';
import type { Registration } from './client-state.ts';
import type { SealpostHttpClient } from './http-client.ts';
import type { ReportOptions, ReportResult, ReportTarget } from './reporting.ts';

/** The base of `SealpostClient` with reporting. Not constructed on its own. */
export abstract class ClientReports extends ClientBlocking {
  protected constructor(
    engine: ProtocolEngine,
    http: SealpostHttpClient,
    registration: Registration,
    options: ClientOptions,
  ) {
    super(engine, http, registration, options);
  }

  /**
   * Reports a received message to the operator (docs/SDK.md §Reporting): the message as
   * received (its content, attachment keys included, its sender certificate and its franking
   * evidence) and, with `includePrevious: n`, up to n earlier messages of the same sender
   * account this device still holds. The service verifies the evidence before it stores the
   * report; the same report again answers the same `reportId` with `duplicate: true`.
   *
   * @param message - a message from `receive`/`receiveBatch` (`reportable: true`), or its `id`
   * @throws {ReportUnavailableError} if this device holds no record of the message: older than
   *   `reportRetentionDays`, pruned, its conversation deleted, the own account's copy, or
   *   received by another device.
   * @throws {ArgumentTypeError | ArgumentRangeError} for an unknown reason or `includePrevious`
   *   outside 0..5.
   * @throws {ApiError} `REPORT_UNVERIFIABLE` (the service could not verify it), `RATE_LIMITED`;
   *   {@link NetworkError} if it could not be sent.
   * @example const { reportId } = await client.report(message, { reason: 'harassment', includePrevious: 2 });
   */
  report(message: ReportTarget, options: ReportOptions, call?: CallOptions): Promise<ReportResult> {
    return this.reporting.report(message, options, callOf(call));
  }

  /**
   * Deletes what this device holds to report messages from `address` (their records in the
   * openings store): its messages can no longer be reported from here. Nothing else is deleted:
   * sessions, the pinned identity, the access key and device list of the contact stay (the SDK
   * keeps no message history; the app deletes its own). Resolves how many records it deleted.
   *
   * @throws {ArgumentTypeError} if `address` is not an address.
   * @example await client.deleteConversation(bob); // and the app deletes its copy of the chat
   */
  deleteConversation(address: string): Promise<number> {
    return this.reporting.deleteConversation(address);
  }
}
