import { strict as assert } from 'node:assert';
import { after, before, describe, test } from 'node:test';
import type { ScanSummary } from '@secure-registry/shared';
import { namePatternAnalyzer } from '../test-support/analyzers.js';
import { makeGraph } from '../test-support/graph.js';
import { startTestServer } from '../test-support/harness.js';
import type { TestServer } from '../test-support/harness.js';
import { generateToken, hashToken, issueToken, isLoopbackHost } from './auth.js';
import { startServer } from '../start-server.js';

const GRAPH = { graph: makeGraph([{ name: 'local', version: '1.0.0', source: 'file' }]) };

describe('bearer token auth', () => {
  let server: TestServer;
  const tokens: Record<string, string> = {};

  before(async () => {
    server = await startTestServer({
      upstream: 'http://127.0.0.1:9/',
      analyzer: namePatternAnalyzer(),
      auth: 'token',
    });
    for (const role of ['admin', 'reviewer', 'ci'] as const) {
      tokens[role] = (await issueToken(server.store, { role, label: `test ${role}` })).token;
    }
  });
  after(() => server.dispose());

  test('tokens are srt_ + 43 base64url characters and only their SHA-256 is stored', async () => {
    const token = generateToken();
    assert.match(token, /^srt_[A-Za-z0-9_-]{43}$/);
    assert.notEqual(generateToken(), token);
    const record = await server.store.findTokenByHash(hashToken(tokens.ci!));
    assert.equal(record?.role, 'ci');
    assert.equal(await server.store.findTokenByHash(tokens.ci!), undefined);
  });

  test('no token or an unknown token is 401; the wrong role 403; the right role passes', async () => {
    const missing = await server.json<{ code: string }>('POST', '/api/v1/scans', GRAPH);
    assert.equal(missing.status, 401);
    assert.equal(missing.body.code, 'ERR_SR_UNAUTHORIZED');
    const forged = `srt_${'A'.repeat(43)}`;
    const invalid = await server.json<{ code: string; error: string }>('POST', '/api/v1/scans', GRAPH, {
      authorization: `Bearer ${forged}`,
    });
    assert.equal(invalid.status, 401);
    assert.equal(invalid.body.code, 'ERR_SR_INVALID_TOKEN');
    assert.ok(!JSON.stringify(invalid.body).includes(forged), 'tokens never echo back');
    const wrongRole = await server.json<{ code: string }>('POST', '/api/v1/scans', GRAPH, {
      authorization: `Bearer ${tokens.reviewer}`,
    });
    assert.equal(wrongRole.status, 403);
    assert.equal(wrongRole.body.code, 'ERR_SR_FORBIDDEN');

    const created = await server.json<ScanSummary>('POST', '/api/v1/scans', GRAPH, {
      authorization: `Bearer ${tokens.ci}`,
    });
    assert.equal(created.status, 201);
    const read = await server.json('GET', `/api/v1/scans/${created.body.id}`, undefined, {
      authorization: `Bearer ${tokens.reviewer}`,
    });
    assert.equal(read.status, 200);
    const readAnon = await server.json('GET', `/api/v1/scans/${created.body.id}`);
    assert.equal(readAnon.status, 401);
    const eventsAnon = await server.json('GET', `/api/v1/scans/${created.body.id}/events`);
    assert.equal(eventsAnon.status, 401);
    const pkgAnon = await server.json('GET', '/api/v1/packages/x/1.0.0');
    assert.equal(pkgAnon.status, 401);
    const admin = await server.json('POST', '/api/v1/scans', GRAPH, {
      authorization: `Bearer ${tokens.admin}`,
    });
    assert.equal(admin.status, 201);
    const health = await server.json('GET', '/healthz');
    assert.equal(health.status, 200, 'health needs no token');
  });
});

describe('tokenless mode', () => {
  test('is refused on anything but loopback', async () => {
    assert.equal(isLoopbackHost('127.0.0.1'), true);
    assert.equal(isLoopbackHost('::1'), true);
    assert.equal(isLoopbackHost('0.0.0.0'), false);
    assert.equal(isLoopbackHost('localhost'), false);
    await assert.rejects(
      startServer({
        host: '0.0.0.0',
        port: 0,
        dataDir: '/nonexistent',
        auth: 'none',
        upstream: 'http://127.0.0.1:9/',
      }),
      (error: Error & { code?: string }) => error.code === 'ERR_SR_TOKENLESS_NOT_LOCAL',
    );
  });

  test('on 127.0.0.1 without auth every request is allowed', async () => {
    const server = await startTestServer({
      upstream: 'http://127.0.0.1:9/',
      analyzer: namePatternAnalyzer(),
    });
    try {
      const created = await server.json('POST', '/api/v1/scans', GRAPH);
      assert.equal(created.status, 201);
    } finally {
      await server.dispose();
    }
  });
});
