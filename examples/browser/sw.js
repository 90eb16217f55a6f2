/**
 * The browser example's service worker: it turns a Sealpost wake-up into a notification, and a
 * click on that notification into the chat page. app.js registers it ("Enable wake-ups") and
 * hands its registration to `client.subscribePush`; serve.mjs serves it at `/sw.js`, on the
 * page's own origin, as a service worker must be.
 *
 * The service sends a wake-up when a message is stored for this device while the device has no
 * live connection (the tab is closed). A wake-up carries no content: its payload is empty, and
 * the service could not fill it in if it wanted to, since a sealed send does not tell it who
 * wrote and the message is end-to-end encrypted. So the notification is generic: "New message",
 * nothing about the sender or the text. The push subscription is made with
 * `userVisibleOnly: true`, so Chrome expects every push to show a notification (it shows one of
 * its own, "This site has been updated in the background", when the handler shows none).
 *
 * What an app could do instead: open the page (as a click here does), whose client connects and
 * whose `receive()` drains the queue; or, with its keys in a store the worker can open too
 * (IndexedDB), receive in the worker and show the real sender and text, decrypted on the device.
 * This example keeps its keys in the page's memory (a reload is a new device), so it can only
 * tell the user that something arrived.
 */

/** One tag: a newer wake-up replaces the notification of an older one instead of stacking. */
const TAG = 'sealpost-wake';

self.addEventListener('push', (event) => {
  // The payload (`event.data`) is empty by design; nothing in it is read.
  event.waitUntil(self.registration.showNotification('New message', { tag: TAG }));
});

self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  event.waitUntil(
    (async () => {
      const windows = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
      const page = windows.find((w) => new URL(w.url).origin === self.location.origin);
      if (page) return page.focus();
      return self.clients.openWindow('/');
    })(),
  );
});
