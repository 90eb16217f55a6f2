/**
 * The message-request part of `SealpostClient` (docs/SDK.md §Message requests): its base class
 * between `ClientReports` and the messaging members of client.ts, holding who counts as a
 * contact (accept, decline), who may start a conversation with this account, and the wallet of
 * anonymous tokens that pays for this account's own first messages.
 */
import type { ProtocolEngine } from '../protocol/engine.ts';
import { ArgumentRangeError, ArgumentTypeError } from '../util/argument-errors.ts';
import { FIRST_CONTACT_MODES, type FirstContactMode } from '../wire/api/schemas.ts';
import { isAddress } from '../wire/identity.ts';
import type { CallOptions } from './call-options.ts';
import { type ClientOptions, callOf } from './client-options.ts';
import { ClientReports } from './client-reports.ts';
import type { Registration } from './client-state.ts';
import type { SealpostHttpClient } from './http-client.ts';

/**
 * Checks a `firstContact` setting.
 *
 * @example firstContactMode('requests') // 'requests'
 * @throws {ArgumentRangeError} for anything but `contacts`, `requests` or `anyone`.
 */
export function firstContactMode(mode: unknown): FirstContactMode {
  if (!(FIRST_CONTACT_MODES as readonly unknown[]).includes(mode)) {
    throw new ArgumentRangeError(`firstContact must be one of ${FIRST_CONTACT_MODES.join(', ')}`);
  }
  return mode as FirstContactMode;
}

/** The base of `SealpostClient` with message requests. Not constructed on its own. */
export abstract class ClientRequests extends ClientReports {
  protected constructor(
    engine: ProtocolEngine,
    http: SealpostHttpClient,
    registration: Registration,
    options: ClientOptions,
  ) {
    super(engine, http, registration, options);
  }

  /**
   * Accepts the message request of `address`: it becomes a contact, its messages are no longer
   * requests, and the SDK's own sends (key updates after a rotation) include it. Replying with
   * `send` accepts too.
   *
   * @throws {ArgumentTypeError} if `address` is not an address.
   * @throws {ArgumentRangeError} for the own address.
   * @example if (message.request && userAccepted) await client.acceptRequest(message.sender.address);
   */
  async acceptRequest(address: string): Promise<void> {
    this.checkOther(address);
    await this.state.store.commit([this.state.acceptOp(address)]);
  }

  /**
   * Declines the message request of `address` (or drops a contact): what this device holds to
   * report its messages is deleted (as {@link deleteConversation}), it is no longer a contact,
   * and its later messages arrive as requests again. Nothing is sent to it or to the service;
   * to stop its messages, {@link block} it (before declining, {@link report} it if wanted).
   * Resolves how many report records were deleted.
   *
   * @throws {ArgumentTypeError} if `address` is not an address.
   * @throws {ArgumentRangeError} for the own address.
   * @example await client.declineRequest(stranger); // and the app deletes its copy of the chat
   */
  async declineRequest(address: string): Promise<number> {
    this.checkOther(address);
    await this.state.store.commit([this.state.acceptOp(address, false)]);
    return this.reporting.deleteConversation(address);
  }

  /**
   * Whether `address` is a contact (its messages are not requests): this device sent to it,
   * accepted it, added its card, or another device of this account sent to it.
   *
   * @throws {ArgumentTypeError} if `address` is not an address.
   * @example const inbox = (await client.isContact(m.sender.address)) ? 'chats' : 'requests';
   */
  isContact(address: string): Promise<boolean> {
    if (!isAddress(address)) throw new ArgumentTypeError('address is not an address');
    return this.state.isAccepted(address);
  }

  /**
   * Changes who may start a sealed conversation with this account (docs/SDK.md §Message
   * requests): `contacts` (holders of the access key only), `requests` (also strangers paying
   * with an anonymous token; their messages arrive with `request: true`) or `anyone`.
   * Identified first contact stays open in every mode.
   *
   * @throws {ArgumentRangeError} for another mode.
   * @throws {ApiError | NetworkError}
   * @example await client.setFirstContact('contacts');
   */
  async setFirstContact(mode: FirstContactMode, call?: CallOptions): Promise<void> {
    await this.http.updateSettings({ firstContact: firstContactMode(mode) }, callOf(call));
  }

  /**
   * Fetches one batch of anonymous tokens now (the client also refills on its own, at random
   * times) and resolves how many it holds then.
   *
   * @throws {TokenKeysRefusedError} if the service's key list does not verify against the
   *   pinned trust root, or names another key for a day than the one this client saw first.
   * @throws {ApiError} `TOKEN_QUOTA_EXCEEDED` (the account's daily quota is used up; automatic
   *   refills wait for the next UTC day), `ACCOUNT_SUSPENDED`; {@link NetworkError}.
   * @example await client.refillTokens(); // before going offline for a while
   */
  refillTokens(call?: CallOptions): Promise<number> {
    return this.wallet.refill(callOf(call));
  }

  /**
   * How many anonymous tokens this device holds (each pays for one message request).
   *
   * @example if ((await client.tokenCount()) === 0) showRequestsUnavailable();
   */
  tokenCount(): Promise<number> {
    return this.wallet.count();
  }

  private checkOther(address: string): void {
    if (!isAddress(address)) throw new ArgumentTypeError('address is not an address');
    if (address === this.address) throw new ArgumentRangeError('the own account is no request');
  }
}
