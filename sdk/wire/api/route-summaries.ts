/**
 * One-line summaries of the operations of the route table, for `GET /openapi.json`
 * (functions/api/openapi.ts). Kept apart from the table so that a client bundle, which imports
 * the table for its schemas, does not carry them.
 */
import type { OperationId } from './route-types.ts';

/** The summary of every operation (a missing one does not compile). */
export const ROUTE_SUMMARIES: { readonly [Op in OperationId]: string } = {
  health: 'Liveness check',
  registerAccount: 'Register an account and its first device (id 1)',
  addDevice: 'Link another device to an account',
  listDevices: "List a recipient's device ids for fan-out (rate-limited for other accounts)",
  removeDevice:
    'Remove a device of the signing account (another device also needs the account signature)',
  updateSettings: 'Rotate the delivery access key or change who may start a conversation',
  blockAccount:
    'Block an account: its identified sends to the signing account are refused (403 BLOCKED)',
  unblockAccount: 'Unblock an account',
  listBlocked: 'Every account the signing account blocks',
  uploadPrekeys: 'Upload prekeys of the signing device',
  countPrekeys: 'Count the one-time prekeys left for the signing device',
  fetchBundles: 'Fetch prekey bundles of every device (claims one-time keys)',
  fetchDeviceBundle: 'Fetch the prekey bundle of one device (claims one-time keys)',
  fetchSealedBundles:
    'Fetch prekey bundles of every device without naming the caller (access key or token; claims one-time keys)',
  fetchSealedDeviceBundle:
    'Fetch the prekey bundle of one device without naming the caller (access key or token; claims one-time keys)',
  fetchSealedDevices:
    "List an account's device ids without naming the caller (its access key, or nothing for an account that takes anyone's; no token)",
  tokenKeys: 'The anonymous-token issuer keys, signed by the server key (one per UTC day)',
  issueTokens:
    'Blind-sign up to 20 token requests for the signing account (counted against its daily quota)',
  serverCertificate: 'The server certificate and the trust root public key',
  senderCertificate: 'Issue a sender certificate for the signing device',
  certificateRevocations:
    'The signed list of suspended accounts whose sender certificates recipients stop accepting',
  sendMulti:
    'Multi-recipient sealed send: one shared payload for the devices of up to 256 accounts, each account authorized on its own (docs/PROTOCOL.md §14)',
  sendMultiIdentified:
    'Multi-recipient identified send, signed by the sender device: copies to the own account’s other devices (one account, authorization kind none)',
  sendSealed:
    'Sealed send to every device of a recipient (authorized by the access key, or a token for a message request)',
  sendIdentified:
    'Identified send, signed by the sender device: first contact, or a copy to the own account’s other devices',
  fetchMessages: "Fetch a batch of the signing device's messages, oldest first",
  ackMessages: 'Acknowledge (and delete) delivered messages',
  pushKey: "The deployment's Web Push application server key (VAPID public key)",
  subscribePush:
    "Store the signing device's Web Push subscription: it is woken while it has no live connection",
  unsubscribePush: "Remove the signing device's Web Push subscription",
  createAttachment:
    'Start an attachment upload of a padded, encrypted blob: a presigned form, or a multipart upload above the threshold',
  attachmentUploadStatus:
    'Resume an attachment upload of the signing account: the parts in place and fresh part URLs',
  completeAttachment: 'Complete an attachment upload after checking every part and the total size',
  abortAttachment: 'Abandon an unfinished attachment upload of the signing account',
  downloadAttachment:
    'A short-lived presigned download URL of an attachment blob (no account: the server does not learn who fetches)',
  submitReport:
    'Report a received message (and up to 5 earlier ones of its sender) with its franking evidence',
};
