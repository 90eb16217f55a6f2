// Temporary: replaced by the node:crypto backend.
export { nobleBackend as defaultBackend } from './noble-backend.ts';
