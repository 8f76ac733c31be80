/**
 * Issue 13 item 13: an upstream outage during a scan is an infrastructure failure, not a verdict.
 * The package is not decided (never approved), the scan result names the failure kind and the
 * reason (which upstream, what happened), and once upstream is back a re-scan analyses the package.
 */
import { strict as assert } from 'node:assert';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { RemoteError } from '@secure-registry/shared';
import { isDecided } from '../services/scan-planner.js';
import { startServer } from '../start-server.js';
import { FakeUpstream } from '../test-support/fake-upstream.js';
import { scanOne } from '../test-support/scan-one.js';
import { RegistryClient, UpstreamHttpError, isUpstreamUnavailable } from './registry-client.js';

describe('13.13: an upstream outage is an infrastructure failure', () => {
  let upstream: FakeUpstream;
  let dataDir: string;
  before(async () => {
    upstream = await new FakeUpstream().start();
    dataDir = await mkdtemp(join(tmpdir(), 'sr-outage-'));
  });
  after(async () => {
    await upstream.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  test('upstream answers 500: undecided, named infrastructure with the reason; analysed once it is back', async () => {
    const built = await upstream.add({
      name: 'outage-pkg',
      version: '1.0.0',
      files: { 'index.js': 'module.exports = 1;\n' },
    });
    const node = { name: 'outage-pkg', version: '1.0.0', integrity: built.integrity };
    const server = await startServer({ dataDir, port: 0, auth: 'none', upstream: upstream.url, llm: null });
    try {
      upstream.rules.set('/outage-pkg', { status: 500 });
      const failed = await scanOne(server, node);
      const pkg = failed.packages[0]!;
      assert.equal(pkg.state, 'review', 'never approved (fail closed)');
      assert.equal(pkg.failure?.kind, 'infrastructure');
      assert.ok(
        pkg.failure.reason.includes(`upstream answered 500 for ${upstream.url}outage-pkg`),
        pkg.failure.reason,
      );
      assert.match(pkg.failure.reason, /^could not fetch from upstream: .*\(3 attempts\)$/);
      assert.equal(
        upstream.count('/outage-pkg'),
        3,
        'the client retried, the job runner did not multiply it',
      );
      assert.equal(isDecided(await server.store.getArtifact(node)), false, 'not a verdict');

      upstream.rules.delete('/outage-pkg');
      const again = await scanOne(server, node);
      assert.equal(again.packages[0]?.state, 'approved');
      assert.equal(again.packages[0]?.failure, undefined);
    } finally {
      await server.close();
    }
  });
});

describe('registry client: bounded requests and retries', () => {
  test('a hang is cut at the timeout and retried; slow within the timeout succeeds; 404 is not retried', async () => {
    const hits = new Map<string, number>();
    const upstream = createServer((req, res) => {
      hits.set(req.url ?? '', (hits.get(req.url ?? '') ?? 0) + 1);
      if (req.url === '/hang') return; // never answers
      if (req.url === '/trickle') {
        // Headers at once, then a byte at a time: each gap is short, the whole is too long.
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write('{');
        const timer = setInterval(() => res.write(' '), 50);
        res.on('close', () => clearInterval(timer));
        return;
      }
      if (req.url === '/slow') return void setTimeout(() => res.end('{}'), 100);
      if (req.url === '/flaky' && hits.get('/flaky') === 1) return void res.writeHead(503).end();
      if (req.url === '/gone') return void res.writeHead(404).end();
      res.end('{}');
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
    const client = new RegistryClient({
      baseUrl: url,
      timeoutMs: 1000,
      retry: { attempts: 2, baseDelayMs: 10 },
    });
    try {
      for (const name of ['hang', 'trickle']) {
        const started = Date.now();
        await assert.rejects(client.getPackument(name), (error) => {
          assert.ok(error instanceof RemoteError);
          assert.equal(error.code, 'ERR_SR_UPSTREAM_TIMEOUT');
          assert.match(
            error.message,
            new RegExp(`did not answer ${url}/${name} within 1000 ms \\(2 attempts\\)`),
          );
          assert.ok(isUpstreamUnavailable(error));
          return true;
        });
        assert.equal(hits.get(`/${name}`), 2);
        assert.ok(Date.now() - started >= 2000, 'each attempt waited its timeout');
      }
      assert.deepEqual(await client.getPackument('slow'), {});
      assert.deepEqual(await client.getPackument('flaky'), {}, 'a 503 is retried');
      await assert.rejects(client.getPackument('gone'), (error) => {
        assert.ok(error instanceof UpstreamHttpError && error.status === 404);
        assert.equal(isUpstreamUnavailable(error), false, 'a 404 is a fact about the package');
        return true;
      });
      assert.equal(hits.get('/gone'), 1);
    } finally {
      await client.close();
      upstream.closeAllConnections();
      await new Promise<void>((resolve) => upstream.close(() => resolve()));
    }
  });
});
