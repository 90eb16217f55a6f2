/** The local server over HTTP: in memory and over DynamoDB Local + s3rver, with persisted keys. */
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalServer } from '#functions/api/local.ts';
import { MAX_HEADER_BYTES } from '#functions/api/node-http.ts';
import { MAX_SMALL_BODY_BYTES } from '#sdk/wire/api/limits.ts';
import { type LocalAws, startLocalAws } from '../helpers/local-aws.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sealpost-local-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('local server', () => {
  it('serves the app and keeps its trust root across restarts', async () => {
    const logs: string[] = [];
    const first = await startLocalServer({ port: 0, dataDir: dir, log: (l) => logs.push(l) });
    const health = await fetch(`${first.url}/v1/health`);
    expect(await health.json()).toEqual({ status: 'ok' });
    const server = await (await fetch(`${first.url}/v1/certificates/server`)).json();
    expect(server.trustRoot).toBe(first.trustRoot);
    await first.close();
    const second = await startLocalServer({ port: 0, dataDir: dir, log: () => {} });
    expect(second.trustRoot).toBe(first.trustRoot);
    await second.close();
    expect((await stat(join(dir, 'signing.json'))).mode & 0o777).toBe(0o600);
    expect(JSON.parse(await readFile(join(dir, 'signing.json'), 'utf8')).version).toBe(2);
    expect(logs.length).toBe(2);
  });

  describe('HTTP layer', () => {
    let server: Awaited<ReturnType<typeof startLocalServer>>;
    beforeAll(async () => {
      server = await startLocalServer({ port: 0, dataDir: dir, log: () => {} });
    });
    afterAll(async () => {
      await server?.close();
    });

    it('answers an oversized header block and a malformed request with JSON errors', async () => {
      const big = await rawExchange(
        server.url,
        `GET /v1/health HTTP/1.1\r\nhost: x\r\nx-big: ${'a'.repeat(MAX_HEADER_BYTES)}\r\n\r\n`,
      );
      expect(big.status).toBe(431);
      expect(big.headers['content-type']).toBe('application/json');
      expect(JSON.parse(big.body)).toEqual({
        error: { code: 'HEADERS_TOO_LARGE', message: expect.any(String) },
      });
      const garbage = await rawExchange(server.url, 'NOT HTTP AT ALL\r\n\r\n');
      expect(garbage.status).toBe(400);
      expect(JSON.parse(garbage.body).error.code).toBe('BAD_REQUEST');
    });

    it('lets a slow client finish an oversized upload, read the JSON 413 and reuse the connection', async () => {
      const socket = await open(server.url);
      const reader = responses(socket);
      const total = 4 * 1024 * 1024;
      socket.write(
        `PUT /v1/prekeys HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${total}\r\n\r\n`,
      );
      const first = reader.next();
      // Paced writes that outlast the adapter's own half-second drain.
      const chunk = Buffer.alloc(128 * 1024, 0x20);
      for (let sent = 0; sent < total; sent += chunk.length) {
        await write(socket, chunk);
        await new Promise((r) => setTimeout(r, 40));
      }
      const tooLarge = await first;
      expect(tooLarge.status).toBe(413);
      expect(JSON.parse(tooLarge.body).error.code).toBe('PAYLOAD_TOO_LARGE');
      socket.write('GET /v1/health HTTP/1.1\r\nhost: x\r\n\r\n');
      const health = await reader.next();
      expect(health.status).toBe(200);
      expect(JSON.parse(health.body)).toEqual({ status: 'ok' });
      expect(reader.errors()).toEqual([]);
      socket.destroy();
    });

    it('answers a chunked upload past the limit with a JSON 413 and keeps the connection', async () => {
      const socket = await open(server.url);
      const reader = responses(socket);
      socket.write(
        'PUT /v1/prekeys HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n',
      );
      const first = reader.next();
      const piece = Buffer.alloc(64 * 1024, 0x20);
      for (let sent = 0; sent <= MAX_SMALL_BODY_BYTES * 3; sent += piece.length) {
        await write(
          socket,
          Buffer.concat([
            Buffer.from(`${piece.length.toString(16)}\r\n`),
            piece,
            Buffer.from('\r\n'),
          ]),
        );
        await new Promise((r) => setTimeout(r, 40));
      }
      await write(socket, Buffer.from('0\r\n\r\n'));
      const tooLarge = await first;
      expect(tooLarge.status).toBe(413);
      expect(JSON.parse(tooLarge.body).error.code).toBe('PAYLOAD_TOO_LARGE');
      socket.write('GET /v1/health HTTP/1.1\r\nhost: x\r\n\r\n');
      expect((await reader.next()).status).toBe(200);
      expect(reader.errors()).toEqual([]);
      socket.destroy();
    });

    it('refuses a GET with a body with a JSON 400', async () => {
      const res = await rawExchange(
        server.url,
        'GET /v1/health HTTP/1.1\r\nhost: x\r\ncontent-length: 5\r\nconnection: close\r\n\r\nhello',
      );
      expect(res.status).toBe(400);
      expect(JSON.parse(res.body).error.code).toBe('BAD_REQUEST');
    });
  });

  describe('over DynamoDB Local and s3rver', () => {
    let aws: LocalAws;
    beforeAll(async () => {
      aws = await startLocalAws();
    });
    afterAll(async () => {
      await aws?.stop();
    });

    it('creates its table and bucket and answers', async () => {
      const server = await startLocalServer({
        port: 0,
        dataDir: dir,
        aws: {
          dynamodb: aws.dynamoEndpoint,
          s3: aws.s3Endpoint,
          table: 'local-table',
          bucket: 'local-bucket',
        },
        log: () => {},
      });
      const res = await fetch(`${server.url}/v1/bundles/${'a'.repeat(32)}`);
      expect(res.status).toBe(401);
      await server.close();
    });
  });
});

interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

function open(url: string): Promise<Socket> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => resolve(socket));
    socket.once('error', reject);
  });
}

function write(socket: Socket, data: Buffer): Promise<void> {
  return new Promise((resolve, reject) =>
    socket.write(data, (err) => (err ? reject(err) : resolve())),
  );
}

/** Parses HTTP/1.1 responses with a content-length off a socket, in order. */
function responses(socket: Socket) {
  let buffer = Buffer.alloc(0);
  const errors: string[] = [];
  const waiting: (() => void)[] = [];
  socket.on('data', (d: Buffer) => {
    buffer = Buffer.concat([buffer, d]);
    for (const w of waiting.splice(0)) w();
  });
  socket.on('error', (e: NodeJS.ErrnoException) => errors.push(e.code ?? e.message));
  socket.on('close', () => {
    for (const w of waiting.splice(0)) w();
  });
  const parse = (): RawResponse | undefined => {
    const end = buffer.indexOf('\r\n\r\n');
    if (end < 0) return undefined;
    const [statusLine, ...lines] = buffer.subarray(0, end).toString('latin1').split('\r\n');
    const headers: Record<string, string> = {};
    for (const line of lines) {
      const i = line.indexOf(':');
      headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
    }
    const length = Number(headers['content-length'] ?? 0);
    if (buffer.length < end + 4 + length) return undefined;
    const body = buffer.subarray(end + 4, end + 4 + length).toString('utf8');
    buffer = buffer.subarray(end + 4 + length);
    return { status: Number(statusLine!.split(' ')[1]), headers, body };
  };
  return {
    errors: () => errors,
    async next(): Promise<RawResponse> {
      for (;;) {
        const res = parse();
        if (res) return res;
        if (socket.destroyed) throw new Error(`connection closed (${errors.join(',')})`);
        await new Promise<void>((r) => waiting.push(r));
      }
    },
  };
}

/** Sends `request` on a new connection and reads one response. */
async function rawExchange(url: string, request: string): Promise<RawResponse> {
  const socket = await open(url);
  const reader = responses(socket);
  socket.write(request);
  try {
    return await reader.next();
  } finally {
    socket.destroy();
  }
}
