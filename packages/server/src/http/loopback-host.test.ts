import { strict as assert } from 'node:assert';
import { request } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { namePatternAnalyzer } from '../test-support/analyzers.js';
import { makeGraph } from '../test-support/graph.js';
import { startTestServer } from '../test-support/harness.js';
import type { TestServer } from '../test-support/harness.js';
import { isLoopbackHostHeader } from './auth.js';

function send(url: string, method: string, path: string, host: string, body?: unknown): Promise<number> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        hostname,
        port,
        method,
        path,
        headers: { host, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(body !== undefined ? JSON.stringify(body) : undefined);
  });
}

describe('AUTH=none answers loopback host names only (DNS rebinding)', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({
      upstream: 'http://127.0.0.1:9/',
      analyzer: namePatternAnalyzer(),
      auth: 'none',
    });
  });
  after(() => server.dispose());

  test('the Host header is matched exactly', () => {
    for (const host of ['localhost', 'LOCALHOST:4874', '127.0.0.1', '127.0.0.1:1', '[::1]', '[::1]:65535'])
      assert.ok(isLoopbackHostHeader(host), host);
    for (const host of [
      undefined,
      '',
      'evil.example',
      'localhost.evil.example',
      '127.0.0.1.nip.io',
      '127.0.0.2',
      '[::1]x',
      'localhost:abc',
    ])
      assert.ok(!isLoopbackHostHeader(host), String(host));
  });

  test('a rebinding host name is refused on every route; loopback names pass', async () => {
    const { port } = new URL(server.url);
    const scan = { graph: makeGraph([{ name: 'local', version: '1.0.0', source: 'file' }]) };
    for (const host of [`rebind.example:${port}`, 'attacker.test', `127.0.0.1.nip.io:${port}`]) {
      assert.equal(await send(server.url, 'POST', '/api/v1/scans', host, scan), 403, host);
      assert.equal(await send(server.url, 'GET', '/api/v1/reviews', host), 403, host);
      assert.equal(await send(server.url, 'GET', '/healthz', host), 403, host);
      assert.equal(await send(server.url, 'GET', '/left-pad', host), 403, host);
    }
    for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`]) {
      assert.equal(await send(server.url, 'POST', '/api/v1/scans', host, scan), 201, host);
      assert.equal(await send(server.url, 'GET', '/healthz', host), 200, host);
    }
  });
});
