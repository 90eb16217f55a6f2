/** The service API contract (docs/SERVICE.md). */
export * from './codec.ts';
export * from './errors.ts';
export * from './fields.ts';
export * from './limits.ts';
export * from './message-id.ts';
export * from './realtime.ts';
export * from './route-summaries.ts';
export * from './route-types.ts';
export * from './routes.ts';
export * from './schemas.ts';
export * from './signing.ts';
