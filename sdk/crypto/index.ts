export { defaultBackend } from '#crypto-default';
export * from './backend.ts';
export { nobleBackend } from './noble-backend.ts';
