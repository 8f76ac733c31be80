import { strict as assert } from 'node:assert';
import { connect } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { namePatternAnalyzer } from '../test-support/analyzers.js';
import { startTestServer } from '../test-support/harness.js';
import type { TestServer } from '../test-support/harness.js';
import { issueToken } from './auth.js';

const ANNOUNCED = 60 * 1024 * 1024;

/**
 * Sends the headers of a POST announcing a 60 MiB body, then only 4 KiB of it, and returns what
 * the server answers (or `undefined` when it waits for the rest of the body instead).
 */
function partialPost(
  url: string,
  path: string,
  headers: Record<string, string>,
): Promise<string | undefined> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    let answer = '';
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(undefined);
    }, 30_000);
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      answer += chunk;
      if (answer.includes('\r\n\r\n')) {
        clearTimeout(timer);
        socket.destroy();
        resolve(answer);
      }
    });
    socket.on('error', reject);
    const lines = [
      `POST ${path} HTTP/1.1`,
      `host: ${hostname}:${port}`,
      'content-type: application/json',
      `content-length: ${ANNOUNCED}`,
      ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
    ];
    socket.write(`${lines.join('\r\n')}\r\n\r\n{"graph":${' '.repeat(4096)}`);
  });
}

describe('authentication before the body', () => {
  let server: TestServer;
  let reviewer: string;
  before(async () => {
    server = await startTestServer({
      upstream: 'http://127.0.0.1:9/',
      analyzer: namePatternAnalyzer(),
      auth: 'token',
    });
    reviewer = (await issueToken(server.store, { role: 'reviewer' })).token;
  });
  after(() => server.dispose());

  for (const path of ['/api/v1/scans', '/api/v1/reviews', '/-/npm/v1/security/advisories/bulk']) {
    test(`POST ${path} without a token is refused before its body arrives`, async () => {
      const answer = await partialPost(server.url, path, {});
      assert.ok(answer !== undefined, 'the server waited for the 60 MiB body of an unauthenticated request');
      assert.match(answer, /^HTTP\/1\.1 401 /);
      assert.match(answer, /\r\nconnection: close\r\n/i, 'the connection closes instead of reading the rest');
    });
  }

  test('a token with the wrong role is refused (403) before the body too', async () => {
    const answer = await partialPost(server.url, '/api/v1/scans', { authorization: `Bearer ${reviewer}` });
    assert.ok(answer !== undefined, 'the server waited for the body');
    assert.match(answer, /^HTTP\/1\.1 403 /);
  });
});
