import { strict as assert } from 'node:assert';
import { after, before, describe, test } from 'node:test';
import type { PackageVerdictResponse, ScanResult, TraceEvent } from '@secure-registry/shared';
import { readArtifactReports } from '@secure-registry/shared';
import { FakeUpstream } from '../test-support/fake-upstream.js';
import { fixtureVersion } from '../test-support/fixture-version.js';
import { makeGraph } from '../test-support/graph.js';
import { startTestServer, type TestServer } from '../test-support/harness.js';

/**
 * The install phase with the package's dependencies present (real server, real sandbox, fake
 * upstream): fixture-dep-banner's postinstall requires fixture-banner-words and writes a file named
 * after a word only that dependency provides.
 */
describe('install phase with dependencies from the upstream (real sandbox)', { timeout: 240_000 }, () => {
  let upstream: FakeUpstream;
  let server: TestServer;
  const results: ScanResult[] = [];
  const withDep = fixtureVersion('benign/dep-banner/1.0.0');
  const words = fixtureVersion('benign/banner-words/1.0.0');
  // The same package, asking for a version of its dependency that does not exist upstream.
  const unresolvable = {
    ...withDep,
    version: '1.0.1',
    manifest: { ...withDep.manifest, dependencies: { 'fixture-banner-words': '^2.0.0' } },
  };

  before(async () => {
    upstream = await new FakeUpstream().start();
    await upstream.add(words);
    const nodes = [];
    for (const v of [withDep, unresolvable]) {
      const built = await upstream.add(v);
      nodes.push({ name: v.name, version: v.version, integrity: built.integrity });
    }
    server = await startTestServer({
      upstream: upstream.url,
      sandbox: { timeoutMs: 40_000, graceMs: 1_000 },
    });
    // One scan per version (a lockfile holds one version per install path).
    const scans = await Promise.all(
      nodes.map((node) => server.json<{ id: string }>('POST', '/api/v1/scans', { graph: makeGraph([node]) })),
    );
    for (const created of scans) results.push(await server.waitForScan(created.body.id, 200_000));
  });
  after(async () => {
    await server?.dispose();
    await upstream?.close();
  });

  const installOf = async (version: string) => {
    const stored = await server.json<PackageVerdictResponse>(
      'GET',
      `/api/v1/packages/${withDep.name}/${version}`,
    );
    const reports = readArtifactReports(stored.body.reports);
    const summary = reports.install?.summary;
    assert.ok(summary, `install phase of ${version}: ${JSON.stringify(stored.body.reports.sandbox)}`);
    const report = reports.install as { events: TraceEvent[] };
    return {
      summary,
      events: report.events,
      state: results.flatMap((r) => r.packages).find((p) => p.version === version),
    };
  };

  test('the postinstall script finds its dependency in node_modules and exits 0', async () => {
    const { summary, events, state } = await installOf('1.0.0');
    assert.equal(summary.status, 'completed', JSON.stringify(summary));
    assert.equal(summary.exitCode, 0, JSON.stringify(summary));
    assert.equal(summary.dependencies?.present, 1);
    assert.deepEqual(summary.dependencies?.issues, []);
    const files = events.filter((e) => e.kind === 'file');
    const read = files.find(
      (e) => e.op === 'read' && e.path.endsWith('/node_modules/fixture-banner-words/index.js'),
    );
    assert.ok(read, `the dependency was loaded: ${JSON.stringify(files.map((e) => `${e.op} ${e.path}`))}`);
    assert.ok(!read.path.includes('/node_modules/fixture-dep-banner/node_modules/'), 'hoisted to the top');
    assert.ok(
      files.some(
        (e) =>
          (e.op === 'create' || e.op === 'write') &&
          e.path.endsWith('/node_modules/fixture-dep-banner/quokka-banner-words.txt'),
      ),
      'the script wrote the word only the dependency provides',
    );
    assert.equal(state?.state, 'approved', JSON.stringify(state?.findings));
  });

  test('without its dependency (not resolvable) the run still completes and says what is missing', async () => {
    const { summary } = await installOf('1.0.1');
    assert.equal(summary.status, 'completed', JSON.stringify(summary));
    assert.notEqual(summary.exitCode, 0, 'require() of the missing dependency fails');
    assert.equal(summary.dependencies?.present, 0);
    assert.equal(summary.dependencies?.issues.length, 1);
    assert.match(
      summary.dependencies?.issues[0] ?? '',
      /^fixture-banner-words@\^2\.0\.0 .*No matching version/,
    );
  });
});
