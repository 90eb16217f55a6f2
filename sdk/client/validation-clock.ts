/**
 * The engine's clock, with one exception: while a sealed envelope is opened it reads the time
 * the server received the message, so a sender certificate is judged at delivery time, not at
 * the (possibly much later) time the recipient comes online. Signal's sealed-sender decryption
 * takes the envelope's server timestamp for the same reason: messages wait up to 30 days, sender
 * certificates live 7. The server could misstate that time, but it could equally have held or
 * dropped the message; the certificate still has to be validly signed and name the session's
 * identity.
 */
export class ValidationClock {
  private at: number | undefined;

  constructor(private readonly base: () => number) {}

  /** The clock handed to the engine. */
  readonly now = (): number => this.at ?? this.base();

  /**
   * Calls `start` with the clock reading `at`. The engine reads the clock synchronously when
   * `unseal` is called (before its first await), so the override covers exactly that read and
   * nothing that runs concurrently.
   *
   * @example const p = clock.during(receivedAt, () => engine.unseal(envelope, handle));
   */
  during<T>(at: number, start: () => T): T {
    this.at = at;
    try {
      return start();
    } finally {
      this.at = undefined;
    }
  }
}
