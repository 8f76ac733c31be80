import { strict as assert } from 'node:assert';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { zipSync } from 'fflate';
import type { ScanResult, ScanSummary } from '@secure-registry/shared';
import { readArtifactReports } from '@secure-registry/shared';
import { namePatternAnalyzer } from '../test-support/analyzers.js';
import { FakeUpstream } from '../test-support/fake-upstream.js';
import { makeGraph } from '../test-support/graph.js';
import { startTestServer, type TestServer } from '../test-support/harness.js';
import { createStore } from '../storage/index.js';
import { runServerCli as run } from '../test-support/server-cli.js';
import { RegistryClient } from '../upstream/registry-client.js';
import { importAdvisories, readAdvisorySources } from './import.js';

const mal = (id: string, name: string, extra: Record<string, unknown> = {}) => ({
  schema_version: '1.5.0',
  id,
  modified: '2026-11-30T08:00:00Z',
  summary: `Malicious code in ${name} (npm)`,
  affected: [
    { package: { ecosystem: 'npm', name }, ranges: [{ type: 'SEMVER', events: [{ introduced: '0' }] }] },
  ],
  ...extra,
});

for (const backend of ['sqlite', 'postgres'] as const) {
  describe(`advisories import (${backend})`, () => {
    let upstream: FakeUpstream;
    let server: TestServer;
    let registry: RegistryClient;
    let dir: string;
    const analyzer = namePatternAnalyzer();

    before(async () => {
      upstream = await new FakeUpstream().start();
      server = await startTestServer({ backend, upstream: upstream.url, analyzer, sandbox: false });
      registry = new RegistryClient({ baseUrl: upstream.url });
      dir = await mkdtemp(join(tmpdir(), 'sr-osv-'));
    });
    after(async () => {
      await registry.close();
      await server.dispose();
      await upstream.close();
      await rm(dir, { recursive: true, force: true });
    });

    async function scan(name: string, version: string, integrity: string): Promise<ScanResult> {
      const created = await server.json<ScanSummary>('POST', '/api/v1/scans', {
        graph: makeGraph([{ name, version, integrity }]),
      });
      assert.equal(created.status, 201);
      return server.waitForScan(created.body.id);
    }

    test('rejects what MAL records name: stored, still upstream, and analysed later (without analysis)', async () => {
      const stored = await upstream.add({ name: 'thief', version: '1.0.0' });
      const clean = await upstream.add({ name: 'bystander', version: '1.0.0' });
      assert.equal((await scan('thief', '1.0.0', stored.integrity)).packages[0]?.state, 'approved');
      assert.equal((await scan('bystander', '1.0.0', clean.integrity)).packages[0]?.state, 'approved');
      const upstreamOnly = await upstream.add({ name: 'thief', version: '1.1.0' });

      // A directory with a MAL record, a vulnerability record and a file that is not JSON, and a zip.
      await mkdir(join(dir, 'osv', 'malicious', 'npm', 'thief'), { recursive: true });
      await writeFile(
        join(dir, 'osv', 'malicious', 'npm', 'thief', 'MAL-2026-0001.json'),
        JSON.stringify(mal('MAL-2026-0001', 'thief')),
      );
      await writeFile(
        join(dir, 'osv', 'GHSA-1234-5678-9abc.json'),
        JSON.stringify({
          id: 'GHSA-1234-5678-9abc',
          affected: [{ package: { ecosystem: 'npm', name: 'bystander' }, versions: ['1.0.0'] }],
        }),
      );
      await writeFile(join(dir, 'osv', 'broken.json'), '{ not json');
      const zip = join(dir, 'all.zip');
      await writeFile(
        zip,
        zipSync({
          'MAL-2026-0002.json': Buffer.from(
            JSON.stringify({
              ...mal('MAL-2026-0002', 'gone-thief'),
              affected: [{ package: { ecosystem: 'npm', name: 'gone-thief' }, versions: ['2.0.0'] }],
            }),
          ),
        }),
      );
      const read = await readAdvisorySources([join(dir, 'osv'), zip]);
      const summary = await importAdvisories(server.store, read, { registry });
      assert.equal(summary.records, 3);
      assert.equal(summary.imported, 2);
      assert.equal(summary.skipped, 1, 'the GHSA record is a vulnerability, not malware');
      assert.equal(summary.invalid.length, 1);
      assert.match(summary.invalid[0] ?? '', /broken\.json: not JSON/);
      assert.deepEqual(summary.rejected.sort(), ['thief@1.0.0', 'thief@1.1.0']);

      for (const built of [stored, upstreamOnly]) {
        const version = built === stored ? '1.0.0' : '1.1.0';
        const artifact = await server.store.getArtifact({
          name: 'thief',
          version,
          integrity: built.integrity,
        });
        assert.equal(artifact?.verdict, 'rejected', version);
        assert.match(artifact?.reason ?? '', /^known malicious: MAL-2026-0001/);
        assert.equal(artifact?.findings[0]?.rule, 'known-malicious');
        assert.equal(artifact?.findings[0]?.severity, 'critical');
        assert.equal(readArtifactReports(artifact?.reports).advisories?.[0]?.id, 'MAL-2026-0001');
      }
      assert.equal(analyzer.calls.get('thief@1.1.0'), undefined, 'nothing of 1.1.0 was analysed');
      const refused = await fetch(`${server.url}/thief/-/thief-1.0.0.tgz`);
      assert.equal(refused.status, 403);
      assert.match(await refused.text(), /MAL-2026-0001/);
      const bystander = await server.store.getArtifact({
        name: 'bystander',
        version: '1.0.0',
        integrity: clean.integrity,
      });
      assert.equal(bystander?.verdict, 'approved');

      // A release after the import: rejected by the stored advisory, and never downloaded or run.
      const later = await upstream.add({ name: 'thief', version: '1.2.0' });
      const result = await scan('thief', '1.2.0', later.integrity);
      assert.equal(result.packages[0]?.state, 'rejected');
      assert.match(result.packages[0]?.reason ?? '', /MAL-2026-0001/);
      assert.equal(analyzer.calls.get('thief@1.2.0'), undefined);
      assert.equal(upstream.count(upstream.tarballPath('thief', '1.2.0')), 0);
      // Gone upstream and never seen: the advisory still waits for it.
      assert.equal((await server.store.listAdvisories('gone-thief'))[0]?.versions[0], '2.0.0');
    });

    test('a withdrawn record lifts its advisory: what it alone rejected is analysed again', async () => {
      const victim = await upstream.add({ name: 'wrongly-named', version: '3.0.0' });
      const first = await importAdvisories(
        server.store,
        { records: [{ record: mal('MAL-2026-0003', 'wrongly-named'), source: 'feed' }], invalid: [] },
        { registry },
      );
      assert.deepEqual(first.rejected, ['wrongly-named@3.0.0']);
      const withdrawn = await importAdvisories(
        server.store,
        {
          records: [
            {
              record: mal('MAL-2026-0003', 'wrongly-named', { withdrawn: '2026-12-01T00:00:00Z' }),
              source: 'feed',
            },
          ],
          invalid: [],
        },
        { registry },
      );
      assert.equal(withdrawn.withdrawn, 1);
      assert.deepEqual(withdrawn.released, ['wrongly-named@3.0.0']);
      assert.deepEqual(await server.store.listAdvisories('wrongly-named'), []);
      // The next scan containing it analyses it (held until then, never approved on no evidence).
      const result = await scan('wrongly-named', '3.0.0', victim.integrity);
      assert.equal(result.packages[0]?.state, 'approved');
      assert.equal(analyzer.calls.get('wrongly-named@3.0.0'), 1);
    });
  });
}

describe('secure-registry-server advisories (subprocess on a temp SR_DATA_DIR)', () => {
  let dir: string;
  let feed: ReturnType<typeof createServer>;
  let feedUrl: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sr-osv-cli-'));
    feed = createServer((req, res) => {
      if (req.url === '/mal.json') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify([mal('MAL-2026-0010', 'from-url')]));
      } else {
        res.writeHead(404).end();
      }
    });
    await new Promise<void>((resolve) => feed.listen(0, '127.0.0.1', resolve));
    feedUrl = `http://127.0.0.1:${(feed.address() as AddressInfo).port}`;
  });
  after(async () => {
    await new Promise((resolve) => feed.close(resolve));
    await rm(dir, { recursive: true, force: true });
  });

  test('imports a file and a URL, prints the summary; bad input is a usage error', async () => {
    const file = join(dir, 'MAL-2026-0011.json');
    await writeFile(file, JSON.stringify(mal('MAL-2026-0011', 'from-file')));
    const env = { SR_DATA_DIR: join(dir, 'data') };
    const imported = await run(
      ['advisories', 'import', '--offline', '--json', file, `${feedUrl}/mal.json`],
      env,
    );
    assert.equal(imported.code, 0, imported.stderr);
    const summary = JSON.parse(imported.stdout) as { records: number; imported: number; names: number };
    assert.deepEqual([summary.records, summary.imported, summary.names], [2, 2, 2]);
    const store = await createStore({ dataDir: join(dir, 'data') });
    try {
      assert.equal((await store.listAdvisories('from-url'))[0]?.id, 'MAL-2026-0010');
      assert.equal((await store.listAdvisories('from-file'))[0]?.source, file);
    } finally {
      await store.close();
    }

    const missing = await run(['advisories', 'import', join(dir, 'nope.json')], env);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /^error: no such file or directory: .*nope\.json$/m);
    assert.doesNotMatch(missing.stderr, /at .*\.js:\d+/, 'no stack trace');
    const none = await run(['advisories', 'import'], env);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /needs at least one file, directory or URL/);
    const unreachable = await run(['advisories', 'import', '--offline', `${feedUrl}/missing.json`], env);
    assert.equal(unreachable.code, 3);
    assert.match(unreachable.stderr, /missing\.json answered 404/);
    const help = await run(['--help'], env);
    assert.match(help.stdout, /advisories import/);
  });
});
