import { strict as assert } from 'node:assert';
import { after, before, describe, test } from 'node:test';
import { LoadBudget } from '@secure-registry/shared';
import type { ScanSummary } from '@secure-registry/shared';
import { namePatternAnalyzer } from '../test-support/analyzers.js';
import { FakeUpstream } from '../test-support/fake-upstream.js';
import { makeGraph } from '../test-support/graph.js';
import { startTestServer, type TestServer } from '../test-support/harness.js';
import type { Packument } from './registry-client.js';
import { newVersions } from './watch.js';

test('new versions: published after the newest stored one, or tagged; newest first; bounded', () => {
  const packument: Packument = {
    'dist-tags': { latest: '1.3.0', next: '2.0.0-rc.1' },
    versions: Object.fromEntries(
      ['1.0.0', '1.1.0', '1.2.0', '1.3.0', '1.3.1-beta.0', '2.0.0-rc.1', '0.9.9'].map((v) => [
        v,
        { version: v },
      ]),
    ),
    time: {
      '0.9.9': '2024-01-05T00:00:00Z', // a back-port published later, but older than the newest stored
      '1.0.0': '2024-01-01T00:00:00Z',
      '1.1.0': '2024-02-01T00:00:00Z',
      '1.2.0': '2024-03-01T00:00:00Z',
      '1.3.0': '2024-04-01T00:00:00Z',
      '1.3.1-beta.0': '2024-04-02T00:00:00Z',
      '2.0.0-rc.1': '2024-04-03T00:00:00Z',
    },
  };
  assert.deepEqual(newVersions(packument, new Set(['1.1.0']), 10), ['2.0.0-rc.1', '1.3.0', '1.2.0']);
  assert.deepEqual(newVersions(packument, new Set(['1.1.0']), 2), ['2.0.0-rc.1', '1.3.0']);
  assert.deepEqual(newVersions(packument, new Set(['1.3.0', '2.0.0-rc.1']), 10), []);
});

for (const backend of ['sqlite', 'postgres'] as const) {
  describe(`upstream watch (${backend})`, () => {
    let upstream: FakeUpstream;
    let server: TestServer;
    const analyzer = namePatternAnalyzer();

    before(async () => {
      upstream = await new FakeUpstream().start();
      server = await startTestServer({
        backend,
        upstream: upstream.url,
        analyzer,
        sandbox: false,
        watch: { intervalMs: 100, scope: 'seen' },
      });
    });
    after(async () => {
      await server.dispose();
      await upstream.close();
    });

    test('a release published after a scan is vetted before anyone asks for it', async () => {
      const first = await upstream.add({
        name: 'watched',
        version: '1.0.0',
        publishedAt: '2026-01-01T00:00:00Z',
      });
      await upstream.add({ name: 'unwatched', version: '1.0.0' });
      const scan = await server.json<ScanSummary>('POST', '/api/v1/scans', {
        graph: makeGraph([{ name: 'watched', version: '1.0.0', integrity: first.integrity }]),
      });
      assert.equal(scan.status, 201);
      assert.equal((await server.waitForScan(scan.body.id)).status, 'completed');

      const release = await upstream.add({
        name: 'watched',
        version: '1.1.0',
        publishedAt: '2026-02-01T00:00:00Z',
      });
      const budget = new LoadBudget(15_000);
      for (;;) {
        const stored = await server.store.getArtifact({
          name: 'watched',
          version: '1.1.0',
          integrity: release.integrity,
        });
        if (stored && stored.verdict !== 'pending') {
          assert.equal(stored.verdict, 'approved');
          break;
        }
        assert.ok(!budget.expired(), `watched@1.1.0 not vetted (${budget.describe()})`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      // Served by the vetted registry now, with no scan ever naming it.
      const tarball = await fetch(`${server.url}/watched/-/watched-1.1.0.tgz`);
      assert.equal(tarball.status, 200);
      await tarball.arrayBuffer();
      // A name nobody scanned is not watched.
      assert.equal(analyzer.calls.get('unwatched@1.0.0'), undefined);
      assert.equal(analyzer.calls.get('watched@1.1.0'), 1);
    });
  });
}
