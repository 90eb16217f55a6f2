/**
 * `npm run moderate -- <command>`: the operators' command line for the moderation API
 * (docs/SERVICE.md §14.4, docs/DEPLOY.md "Moderation"). Against the local server by default
 * (`--url`, `SEALPOST_URL`, else `http://127.0.0.1:$SEALPOST_PORT` or port 8787), with the
 * bearer token from `<dataDir>/moderator-token`; with `--aws`, against a deployed stack, every
 * request signed with SigV4 (service `execute-api`) from the default AWS credential chain.
 *
 * Output is readable text, or the server's JSON with `--json`. A refused request prints the
 * server's error and exits 1 (usage errors exit 2). Reported content is untrusted: text is
 * printed quoted with every control and direction-override character escaped.
 */
import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { readModeratorToken } from '#functions/api/moderation/token.ts';

/** What the CLI needs from its surroundings (tests pass their own). */
export interface ModerateIo {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  /** @default globalThis.fetch */
  readonly fetch?: typeof fetch;
  /**
   * AWS credentials for `--aws`.
   * @default the default credential chain (@aws-sdk/credential-provider-node)
   */
  readonly credentials?: () => Promise<{
    accessKeyId: string;
    secretAccessKey: string;
    sessionToken?: string;
  }>;
}

const USAGE = `Usage: npm run moderate -- <command> [options]

Commands:
  list [--status open|decided] [--limit N] [--cursor C]   reports, newest first (default: open)
  show <reportId>                                        one report with its messages
  decide <reportId> dismiss|violation [--note TEXT]      decide a report (or change the decision)
  sender <address>                                       what the reports say about an account
  suspend <address> --reason TEXT                        suspend an account
  lift <address>                                         lift a suspension
  audit [--limit N] [--cursor C]                         operator actions, newest first

Options:
  --url URL        the service (default: $SEALPOST_URL, else http://127.0.0.1:8787)
  --data-dir DIR   where the local moderator token is (default: $SEALPOST_DATA_DIR or .local)
  --aws            sign requests with SigV4 (execute-api) using the default AWS credentials
  --region REGION  the region for --aws (default: $AWS_REGION, else the URL's)
  --json           print the JSON response
  -h, --help       this text
`;

const FLAGS_WITH_VALUES = new Set([
  '--url',
  '--data-dir',
  '--region',
  '--status',
  '--limit',
  '--cursor',
  '--note',
  '--reason',
]);
const BOOLEAN_FLAGS = new Set(['--aws', '--json', '--help', '-h']);

class UsageError extends Error {}

interface Parsed {
  readonly positional: string[];
  readonly options: Map<string, string>;
  readonly flags: Set<string>;
}

function parseArgs(argv: readonly string[]): Parsed {
  const positional: string[] = [];
  const options = new Map<string, string>();
  const flags = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    if (FLAGS_WITH_VALUES.has(name)) {
      const value = eq > 0 ? arg.slice(eq + 1) : argv[++i];
      if (value === undefined) throw new UsageError(`${name} needs a value`);
      options.set(name, value);
    } else if (BOOLEAN_FLAGS.has(arg)) {
      flags.add(arg);
    } else if (arg.startsWith('--')) {
      // Only long options exist (and -h): report ids are base64url and may begin with '-'.
      throw new UsageError(`unknown option ${arg}`);
    } else {
      positional.push(arg);
    }
  }
  return { positional, options, flags };
}

/**
 * `text` safe to print on a terminal: control characters, line and paragraph separators and
 * direction overrides escaped as `\u{…}` (a reported message must not move the cursor, clear the
 * screen or reorder what an operator reads).
 */
export function terminalSafe(text: string): string {
  let out = '';
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    out += unprintable(cp) ? `\\u{${cp.toString(16)}}` : ch;
  }
  return out;
}

/** C0 and C1 controls, DEL, zero-width and direction marks, line separators, the BOM. */
function unprintable(cp: number): boolean {
  return (
    cp < 0x20 ||
    (cp >= 0x7f && cp <= 0x9f) ||
    (cp >= 0x200b && cp <= 0x200f) ||
    (cp >= 0x2028 && cp <= 0x202e) ||
    (cp >= 0x2066 && cp <= 0x2069) ||
    cp === 0xfeff
  );
}

/** A quoted, terminal-safe rendering of untrusted text. */
const quoted = (text: string): string => `"${terminalSafe(text.replace(/["\\]/g, '\\$&'))}"`;

const time = (ms: unknown): string =>
  typeof ms === 'number' && Number.isSafeInteger(ms) ? new Date(ms).toISOString() : '-';

const plain = (value: unknown): string => terminalSafe(String(value));

/** One request of a command. */
interface Request {
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  readonly path: string;
  readonly body?: unknown;
}

const REPORT_ID = /^[A-Za-z0-9_-]{22}$/;
const ADDRESS = /^[a-z2-7]{32}$/;

function need(value: string | undefined, what: string, pattern?: RegExp): string {
  if (value === undefined) throw new UsageError(`missing ${what}`);
  if (pattern && !pattern.test(value)) throw new UsageError(`${what} is malformed`);
  return value;
}

function query(params: Record<string, string | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined) q.set(k, v);
  const text = q.toString();
  return text === '' ? '' : `?${text}`;
}

function requestOf(p: Parsed): Request {
  const [command, a, b] = p.positional;
  const o = (name: string) => p.options.get(name);
  const base = '/v1/moderation';
  const extra = (count: number) => {
    if (p.positional.length > count) throw new UsageError(`too many arguments for ${command}`);
  };
  switch (command) {
    case 'list':
      extra(1);
      return {
        method: 'GET',
        path: `${base}/reports${query({ status: o('--status'), limit: o('--limit'), cursor: o('--cursor') })}`,
      };
    case 'show':
      extra(2);
      return { method: 'GET', path: `${base}/reports/${need(a, 'reportId', REPORT_ID)}` };
    case 'decide': {
      extra(3);
      const id = need(a, 'reportId', REPORT_ID);
      const decision = need(b, 'decision (dismiss or violation)');
      if (decision !== 'dismiss' && decision !== 'violation') {
        throw new UsageError('the decision is dismiss or violation');
      }
      const note = o('--note');
      return {
        method: 'POST',
        path: `${base}/reports/${id}/decision`,
        body: { decision, ...(note === undefined ? {} : { note }) },
      };
    }
    case 'sender':
      extra(2);
      return { method: 'GET', path: `${base}/senders/${need(a, 'address', ADDRESS)}` };
    case 'suspend': {
      extra(2);
      const address = need(a, 'address', ADDRESS);
      return {
        method: 'PUT',
        path: `${base}/accounts/${address}/suspension`,
        body: { reason: need(o('--reason'), '--reason') },
      };
    }
    case 'lift':
      extra(2);
      return {
        method: 'DELETE',
        path: `${base}/accounts/${need(a, 'address', ADDRESS)}/suspension`,
      };
    case 'audit':
      extra(1);
      return {
        method: 'GET',
        path: `${base}/audit${query({ limit: o('--limit'), cursor: o('--cursor') })}`,
      };
    case undefined:
      throw new UsageError('missing command');
    default:
      throw new UsageError(`unknown command ${command}`);
  }
}

type Json = Record<string, unknown>;

function printReportSummary(r: Json, out: (t: string) => void): void {
  const sender = (r['sender'] ?? {}) as Json;
  const decision = r['decision'] as Json | undefined;
  out(
    `${plain(r['reportId'])}  ${plain(r['status'])}  ${plain(r['reason'])}  ${time(r['createdAt'])}  ` +
      `sender ${plain(sender['address'])}/${plain(sender['deviceId'])}  ${plain(r['messages'])} message(s)` +
      (decision ? `  ${plain(decision['decision'])} ${time(decision['decidedAt'])}` : '') +
      '\n',
  );
}

function printMessage(label: string, m: Json, out: (t: string) => void): void {
  out(`\n${label}\n`);
  out(`  messageId:  ${plain(m['messageId'])}\n  received:   ${time(m['receivedAt'])}\n`);
  const preview = (m['preview'] ?? {}) as Json;
  if (preview['frame'] !== 'content') {
    out(`  content:    ${plain(preview['bytes'])} bytes, not a content frame\n`);
    return;
  }
  out(`  kind:       ${plain(preview['kind'])}, sent ${time(preview['sentAt'])}\n`);
  if (typeof preview['text'] === 'string') out(`  text:       ${quoted(preview['text'])}\n`);
  else out(`  body:       ${plain(preview['bodyBytes'])} bytes\n`);
  const attachments = preview['attachments'];
  if (Array.isArray(attachments)) {
    for (const a of attachments as Json[]) {
      const name = typeof a['fileName'] === 'string' ? ` ${quoted(a['fileName'])}` : '';
      const dims = a['width'] !== undefined ? ` ${plain(a['width'])}x${plain(a['height'])}` : '';
      const duration = a['durationMs'] !== undefined ? ` ${plain(a['durationMs'])} ms` : '';
      const thumb = a['thumbnailBytes'] !== undefined ? ' (thumbnail)' : '';
      out(
        `  attachment: ${plain(a['id'])} ${plain(a['contentType'])} ${plain(a['size'])} bytes${name}${dims}${duration}${thumb}\n`,
      );
    }
  }
}

function printText(command: string, body: Json, out: (t: string) => void): void {
  switch (command) {
    case 'list': {
      const reports = (body['reports'] ?? []) as Json[];
      if (reports.length === 0) out('no reports\n');
      for (const r of reports) printReportSummary(r, out);
      if (body['cursor'] !== undefined) out(`more: --cursor ${plain(body['cursor'])}\n`);
      return;
    }
    case 'show': {
      const reporter = (body['reporter'] ?? {}) as Json;
      const sender = (body['sender'] ?? {}) as Json;
      out(
        `report ${plain(body['reportId'])} (${plain(body['status'])}, ${plain(body['verification'])})\n` +
          `  reason:     ${plain(body['reason'])}\n` +
          `  created:    ${time(body['createdAt'])}, kept until ${time(body['expiresAt'])}\n` +
          `  sender:     ${plain(sender['address'])} device ${plain(sender['deviceId'])}\n` +
          `  reporter:   ${plain(reporter['address'])} device ${plain(reporter['deviceId'])}\n`,
      );
      const decision = body['decision'] as Json | undefined;
      if (decision) {
        out(
          `  decision:   ${plain(decision['decision'])} by ${plain(decision['actor'])} at ${time(decision['decidedAt'])}` +
            (typeof decision['note'] === 'string' ? ` ${quoted(decision['note'])}` : '') +
            '\n',
        );
      }
      printMessage('reported message', (body['message'] ?? {}) as Json, out);
      for (const [i, m] of ((body['previous'] ?? []) as Json[]).entries()) {
        printMessage(`earlier message ${i + 1}`, m, out);
      }
      return;
    }
    case 'decide': {
      const d = (body['decision'] ?? {}) as Json;
      out(
        `decided ${plain(body['reportId'])}: ${plain(d['decision'])} at ${time(d['decidedAt'])}\n`,
      );
      return;
    }
    case 'sender': {
      out(
        `${plain(body['address'])}\n  verified reports:   ${plain(body['verifiedReports'])}\n` +
          `  distinct reporters: ${plain(body['distinctReporters'])}\n` +
          `  last report:        ${time(body['lastReportAt'])}\n`,
      );
      const s = body['suspended'] as Json | undefined;
      out(
        s
          ? `  suspended:          since ${time(s['suspendedAt'])}: ${quoted(String(s['reason']))}\n`
          : '  suspended:          no\n',
      );
      return;
    }
    case 'suspend':
      out(
        `suspended ${plain(body['address'])} since ${time(body['suspendedAt'])}: ${quoted(String(body['reason']))}\n`,
      );
      return;
    case 'lift':
      out(
        body['lifted'] === true
          ? `lifted the suspension of ${plain(body['address'])}\n`
          : `${plain(body['address'])} was not suspended\n`,
      );
      return;
    case 'audit': {
      const entries = (body['entries'] ?? []) as Json[];
      if (entries.length === 0) out('no entries\n');
      for (const e of entries) {
        out(
          `${time(e['time'])}  ${plain(e['actor'])}  ${plain(e['action'])}  ${plain(e['target'])}` +
            (e['decision'] !== undefined ? `  ${plain(e['decision'])}` : '') +
            (typeof e['note'] === 'string' ? `  ${quoted(e['note'])}` : '') +
            '\n',
        );
      }
      if (body['cursor'] !== undefined) out(`more: --cursor ${plain(body['cursor'])}\n`);
      return;
    }
  }
}

/** SHA-256 and HMAC-SHA-256 in the shape the SigV4 signer takes (a hash constructor). */
class NodeSha256 {
  private readonly hash: Hash | Hmac;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.hash =
      secret === undefined
        ? createHash('sha256')
        : createHmac('sha256', typeof secret === 'string' ? secret : toBuffer(secret));
  }
  update(data: string | ArrayBuffer | ArrayBufferView): void {
    this.hash.update(typeof data === 'string' ? data : toBuffer(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }
}

function toBuffer(data: ArrayBuffer | ArrayBufferView): Buffer {
  return ArrayBuffer.isView(data)
    ? Buffer.from(data.buffer, data.byteOffset, data.byteLength)
    : Buffer.from(data);
}

/** The region of an `execute-api` URL (`https://{id}.execute-api.{region}.amazonaws.com`). */
function regionOfUrl(url: URL): string | undefined {
  return /\.execute-api\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?$/.exec(url.hostname)?.[1];
}

async function signedHeaders(
  url: URL,
  request: Request,
  body: string | undefined,
  region: string,
  io: ModerateIo,
): Promise<Record<string, string>> {
  const { SignatureV4 } = await import('@smithy/signature-v4');
  const credentials =
    io.credentials ?? (await import('@aws-sdk/credential-provider-node')).defaultProvider();
  const signer = new SignatureV4({
    service: 'execute-api',
    region,
    credentials,
    sha256: NodeSha256,
  });
  const headers: Record<string, string> = { host: url.host };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const signed = await signer.sign({
    method: request.method,
    protocol: url.protocol,
    hostname: url.hostname,
    ...(url.port ? { port: Number(url.port) } : {}),
    path: url.pathname,
    query: Object.fromEntries(url.searchParams),
    headers,
    ...(body === undefined ? {} : { body }),
  });
  return signed.headers;
}

/**
 * Runs one command; resolves to the exit code (0 ok, 1 refused or unreachable, 2 usage).
 *
 * @example await runModerate(['list', '--json'], { env: process.env, stdout, stderr })
 */
export async function runModerate(argv: readonly string[], io: ModerateIo): Promise<number> {
  let parsed: Parsed;
  let request: Request;
  try {
    parsed = parseArgs(argv);
    if (parsed.flags.has('--help') || parsed.flags.has('-h')) {
      io.stdout(USAGE);
      return 0;
    }
    request = requestOf(parsed);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    io.stderr(`error: ${err.message}\n\n${USAGE}`);
    return 2;
  }
  const env = io.env;
  const baseUrl =
    parsed.options.get('--url') ??
    env['SEALPOST_URL'] ??
    `http://127.0.0.1:${env['SEALPOST_PORT'] || '8787'}`;
  let url: URL;
  try {
    url = new URL(request.path, baseUrl);
  } catch {
    io.stderr('error: --url is not a URL\n');
    return 2;
  }
  const body = request.body === undefined ? undefined : JSON.stringify(request.body);
  let headers: Record<string, string>;
  try {
    if (parsed.flags.has('--aws')) {
      const region =
        parsed.options.get('--region') ??
        env['AWS_REGION'] ??
        env['AWS_DEFAULT_REGION'] ??
        regionOfUrl(url);
      if (!region) {
        io.stderr('error: --aws needs a region (--region, AWS_REGION or an execute-api URL)\n');
        return 2;
      }
      headers = await signedHeaders(url, request, body, region, io);
    } else {
      const dataDir = parsed.options.get('--data-dir') ?? env['SEALPOST_DATA_DIR'] ?? '.local';
      const token = await readModeratorToken(dataDir);
      if (token === undefined) {
        io.stderr(
          `error: no moderator token in ${dataDir} (start the local server first, or use --aws)\n`,
        );
        return 1;
      }
      headers = {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      };
    }
  } catch (err) {
    io.stderr(`error: ${terminalSafe((err as Error).message)}\n`);
    return 1;
  }
  let response: Response;
  try {
    response = await (io.fetch ?? fetch)(url, {
      method: request.method,
      headers,
      ...(body === undefined ? {} : { body }),
    });
  } catch (err) {
    io.stderr(`error: cannot reach ${url.origin}: ${terminalSafe((err as Error).message)}\n`);
    return 1;
  }
  const text = await response.text();
  let json: Json | undefined;
  try {
    json = JSON.parse(text) as Json;
  } catch {
    json = undefined;
  }
  if (!response.ok) {
    const error = (json?.['error'] ?? undefined) as Json | undefined;
    if (parsed.flags.has('--json') && json) io.stderr(`${JSON.stringify(json)}\n`);
    else if (error) io.stderr(`error: ${plain(error['code'])}: ${plain(error['message'])}\n`);
    else io.stderr(`error: HTTP ${response.status}\n`);
    return 1;
  }
  if (!json) {
    io.stderr('error: the response is not JSON\n');
    return 1;
  }
  if (parsed.flags.has('--json')) io.stdout(`${JSON.stringify(json, null, 2)}\n`);
  else printText(parsed.positional[0]!, json, io.stdout);
  return 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await runModerate(process.argv.slice(2), {
    env: process.env,
    stdout: (t) => process.stdout.write(t),
    stderr: (t) => process.stderr.write(t),
  });
}
