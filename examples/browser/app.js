/**
 * A one-page chat on the Sealpost SDK in the browser: the page registers a device on load
 * (keys in memory, so a reload is a new device), shows its contact card, adds a contact from
 * its card, sends sealed messages and prints what arrives. Cards are the same
 * `sealpost-card:` tokens as examples/node-chat, so the two can talk to each other.
 *
 * The page talks to the API on its own origin (serve.mjs forwards `/v1/*`), receives over the
 * API's WebSocket endpoint (`realtimeUrl`; polling when the socket cannot open) and pins the
 * trust root that serve.mjs puts in `/config.json`.
 *
 * "Attach file" sends the chosen file with the message: the SDK encrypts it in the page and
 * uploads it straight to the object store's presigned URLs (another origin than the page, so
 * the store answers CORS), showing the upload's progress; the message carries the pointer. A
 * received attachment is downloaded (decrypted and verified as it arrives) into a Blob URL and
 * shown as a link with the sender's file name and, for a raster image, as an <img>.
 *
 * "Enable wake-ups" asks for notification permission, registers the service worker `/sw.js`
 * and hands its registration to `client.subscribePush`, which fetches the service's VAPID key
 * (`GET /v1/push/key`), subscribes through the worker's `pushManager` and registers the
 * subscription with the service. From then on a message stored while this device has no live
 * connection (the tab is closed) makes the service send a content-free wake-up, which sw.js
 * shows as a generic notification.
 */
import { MemoryStore, SealpostClient } from 'sealpost';

const CARD_PREFIX = 'sealpost-card:';
const $ = (id) => document.getElementById(id);

function toBase64Url(text) {
  const bytes = new TextEncoder().encode(text);
  return btoa(String.fromCharCode(...bytes))
    .replaceAll('+', '-')
    .replaceAll('/', '_')
    .replace(/=+$/, '');
}

function fromBase64Url(b64) {
  const bin = atob(b64.replaceAll('-', '+').replaceAll('_', '/'));
  return new TextDecoder().decode(Uint8Array.from(bin, (c) => c.charCodeAt(0)));
}

const encodeCard = (name, card) =>
  `${CARD_PREFIX}${toBase64Url(JSON.stringify({ name, ...card }))}`;

function decodeCard(token) {
  if (!token.startsWith(CARD_PREFIX)) throw new Error(`a card starts with ${CARD_PREFIX}`);
  const { name, address, accessKey } = JSON.parse(fromBase64Url(token.slice(CARD_PREFIX.length)));
  return { name: String(name), card: { address, accessKey } };
}

const names = new Map();
const nameOf = (address) => names.get(address) ?? `${address.slice(0, 8)}…`;

/** An error as the page prints it: `error: <code> <message>`. */
const errorLine = (err) => `error: ${err.code ?? ''} ${err.message}`;

/** A failure of the page's own checks, with a code like the SDK's errors. */
function pageError(code, message) {
  return Object.assign(new Error(message), { code });
}

/**
 * Subscribes this device to wake-ups. Permission first, from the click itself: browsers only
 * ask the user during a gesture, and a push subscription with `userVisibleOnly` (the only kind
 * browsers allow) needs it.
 */
async function enableWakeups(client) {
  if (!('serviceWorker' in navigator) || !('PushManager' in window)) {
    throw pageError('UNSUPPORTED', 'this browser has no service workers or Push API');
  }
  const permission = await Notification.requestPermission();
  if (permission === 'denied') {
    throw pageError('PERMISSION_DENIED', 'notifications are blocked for this site');
  }
  if (permission !== 'granted') {
    throw pageError('PERMISSION_DENIED', 'the notification prompt was dismissed');
  }
  await navigator.serviceWorker.register('/sw.js');
  // The registration of the active worker: `pushManager.subscribe` needs one.
  const registration = await navigator.serviceWorker.ready;
  await client.subscribePush({ registration });
}

function show(line) {
  const li = document.createElement('li');
  li.textContent = line;
  $('messages').append(li);
  return li;
}

/**
 * Image types the page renders in an <img>. The type is the sender's claim; a Blob URL has the
 * page's origin, so nothing the sender sends is given a type a browser would run (HTML, SVG).
 */
const IMAGE_TYPES = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp', 'image/avif']);

const sizeText = (n) => (n < 1024 ? `${n} B` : `${Math.ceil(n / 1024)} KiB`);

/**
 * Shows one received attachment: downloads it (verified: a tampered blob errors instead of
 * ending), then links a Blob URL of it under the sender's file name and, for an image, shows it.
 * The link's Blob is typed `application/octet-stream`, so opening it downloads, never renders.
 */
async function showAttachment(from, attachment) {
  const name = attachment.fileName ?? 'attachment';
  const li = show(`${from} sent ${name} (${sizeText(attachment.size)}): downloading…`);
  li.className = 'attachment';
  try {
    const bytes = await attachment.bytes();
    const link = document.createElement('a');
    link.href = URL.createObjectURL(new Blob([bytes], { type: 'application/octet-stream' }));
    link.download = name;
    link.textContent = name;
    li.replaceChildren(`${from} sent `, link, ` (${sizeText(attachment.size)})`);
    if (IMAGE_TYPES.has(attachment.contentType)) {
      const img = document.createElement('img');
      img.alt = name;
      img.src = URL.createObjectURL(new Blob([bytes], { type: attachment.contentType }));
      li.append(document.createElement('br'), img);
    }
  } catch (err) {
    li.textContent = `${from} sent ${name}: ${errorLine(err)}`;
  }
}

/** The message of the send form: its text and the chosen file, if any. */
function composed(text, file) {
  if (!file) return text;
  const attachment = {
    data: file,
    fileName: file.name,
    // A browser gives '' for a type it does not know: the SDK's default then applies.
    ...(file.type ? { contentType: file.type } : {}),
  };
  return { ...(text ? { text } : {}), attachments: [attachment] };
}

async function main() {
  const { trustRoot, name, realtimeUrl } = await (await fetch('/config.json')).json();
  const client = await SealpostClient.register({
    baseUrl: location.origin,
    // Messages are pushed over this WebSocket (the browser's own); polling is the fallback.
    realtimeUrl,
    store: new MemoryStore(),
    trust: { trustRoot },
  });
  $('card').textContent = encodeCard(name, client.contactCard());
  $('status').textContent = `You are ${name} (${client.address}).`;
  let peer;

  $('add-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    try {
      const { name: theirs, card } = decodeCard($('add-card').value.trim());
      await client.addContact(card);
      names.set(card.address, theirs);
      peer = card.address;
      $('add-card').value = '';
      show(`Added ${theirs}.`);
    } catch (err) {
      show(errorLine(err));
    }
  });

  $('send-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const text = $('message').value;
    const file = $('attach').files[0];
    if (!peer || (!text && !file)) return;
    const progress = $('upload-progress');
    const status = $('upload-status');
    if (file) {
      progress.value = 0;
      progress.hidden = false;
      status.textContent = `uploading ${file.name}…`;
    }
    // Progress in bytes of the encrypted blob (a little more than the file), after each part
    // of a multipart upload, once at the end of a form upload.
    const onProgress = (sent, total) => {
      progress.value = sent / total;
      status.textContent = `uploading ${file.name}: ${Math.floor((100 * sent) / total)}%`;
    };
    try {
      await client.send(peer, composed(text, file), file ? { onProgress } : {});
      $('message').value = '';
      $('attach').value = '';
      if (file) status.textContent = `sent ${file.name}`;
      show(`you to ${nameOf(peer)}: ${[text, file?.name].filter(Boolean).join(' + ')}`);
    } catch (err) {
      if (file) status.textContent = errorLine(err);
      show(errorLine(err));
    }
  });

  $('enable-push').addEventListener('click', async () => {
    $('enable-push').disabled = true;
    $('push-status').textContent = 'enabling…';
    try {
      await enableWakeups(client);
      $('push-status').textContent = 'on';
    } catch (err) {
      $('push-status').textContent = errorLine(err);
      $('enable-push').disabled = false;
    }
  });
  $('enable-push').disabled = false;

  document.body.dataset.ready = 'true';
  const receiving = client.receive({
    onFailure: (f) => show(`unreadable: ${f.error.code}`),
    onConnectionState: (state) => {
      $('connection').textContent = state;
    },
  });
  for await (const m of receiving) {
    const from = nameOf(m.sender.address);
    if (m.text || m.attachments.length === 0) {
      show(`${from}: ${m.text ?? `<${m.body.length} bytes>`}`);
    }
    // Not awaited: downloads run beside the receive loop, which goes on to the next message.
    for (const a of m.attachments) showAttachment(from, a);
  }
}

main().catch((err) => {
  $('status').textContent = errorLine(err);
  document.body.dataset.error = String(err.code ?? err.message);
});
