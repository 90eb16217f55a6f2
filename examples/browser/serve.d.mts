/** Types of serve.mjs, for the repository's test that drives the example. */
export function bundleApp(): Promise<string>;
export function localRealtimeUrl(api: string): string;
export function startExampleSite(options: {
  api: string;
  trustRoot: string;
  name?: string;
  port?: number;
  realtimeUrl?: string;
}): Promise<{ url: string; close(): Promise<void> }>;
