/**
 * A piece of an app's messaging code: it greets a new contact and turns a batch of incoming
 * messages into the lines the app shows. inbox.test.ts tests it against the real service,
 * in-process, with the `@sealpost/testing` kit.
 */
import type { ContactCard, SealpostClient } from 'sealpost';

/** Adds a contact from its card and says hello, sealed. */
export async function greet(
  client: SealpostClient,
  card: ContactCard,
  name: string,
): Promise<void> {
  await client.addContact(card);
  await client.send(card.address, `Hello from ${name}!`);
}

/** Fetches one batch and returns `sender: text` lines (names from `contacts`). */
export async function inboxLines(
  client: SealpostClient,
  contacts: ReadonlyMap<string, string>,
): Promise<string[]> {
  const { messages } = await client.receiveBatch();
  return messages.map((m) => `${contacts.get(m.sender.address) ?? 'unknown'}: ${m.text ?? ''}`);
}
