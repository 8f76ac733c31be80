import { strict as assert } from 'node:assert';
import { after, before, describe, test } from 'node:test';
import type { PackageVerdictResponse, ScanResult, ScanSummary } from '@secure-registry/shared';
import { readArtifactReports } from '@secure-registry/shared';
import { namePatternAnalyzer, throwingAnalyzer } from '../../test-support/analyzers.js';
import { FakeUpstream } from '../../test-support/fake-upstream.js';
import { makeGraph } from '../../test-support/graph.js';
import { startTestServer } from '../../test-support/harness.js';
import type { TestServer } from '../../test-support/harness.js';

const SCANS = '/api/v1/scans';

function byName(result: ScanResult, name: string) {
  const pkg = result.packages.find((p) => p.name === name);
  assert.ok(pkg, `package ${name} in scan`);
  return pkg;
}

for (const backend of ['sqlite', 'postgres'] as const) {
  describe(`scans over ${backend}`, () => {
    let upstream: FakeUpstream;
    let server: TestServer;
    const analyzer = namePatternAnalyzer();
    const integrity = (id: string): string => upstream.tarballInfo.get(id)!.integrity;

    before(async () => {
      upstream = await new FakeUpstream().start();
      for (const [name, version] of [
        ['good', '1.0.0'],
        ['evil-dep', '2.0.0'],
        ['uses-evil', '1.0.0'],
        ['risky', '0.1.0'],
        ['@scope/pkg', '3.1.4'],
        ['shared', '1.0.0'],
      ] as const) {
        await upstream.add({
          name,
          version,
          files: { 'index.js': `module.exports = ${JSON.stringify(name)};\n` },
        });
      }
      server = await startTestServer({ backend, upstream: upstream.url, analyzer, concurrency: 2 });
    });
    after(async () => {
      await server.dispose();
      await upstream.close();
    });

    test('a scan completes with a verdict for every package; dependents of rejected ones are blocked', async () => {
      const graph = makeGraph(
        [
          { name: 'good', version: '1.0.0', integrity: integrity('good@1.0.0') },
          {
            name: 'uses-evil',
            version: '1.0.0',
            integrity: integrity('uses-evil@1.0.0'),
            deps: ['evil-dep'],
          },
          { name: 'evil-dep', version: '2.0.0', integrity: integrity('evil-dep@2.0.0') },
          { name: 'risky', version: '0.1.0', integrity: integrity('risky@0.1.0') },
          { name: '@scope/pkg', version: '3.1.4', integrity: integrity('@scope/pkg@3.1.4') },
          { name: 'from-git', version: '1.0.0', source: 'git', resolved: 'git+ssh://git@example.test/x.git' },
        ],
        ['good', 'uses-evil', 'risky', '@scope/pkg', 'from-git'],
      );
      const created = await server.json<ScanSummary>('POST', SCANS, { graph, label: 'demo' });
      assert.equal(created.status, 201);
      assert.equal(created.body.counts.total, 6);
      assert.equal(created.body.label, 'demo');
      const result = await server.waitForScan(created.body.id);
      assert.equal(result.status, 'completed');
      assert.ok(result.completedAt);
      assert.equal(byName(result, 'good').state, 'approved');
      assert.equal(byName(result, '@scope/pkg').state, 'approved');
      assert.equal(byName(result, 'evil-dep').state, 'rejected');
      assert.equal(byName(result, 'evil-dep').findings[0]?.rule, 'test-evil');
      assert.equal(byName(result, 'risky').state, 'review');
      assert.equal(byName(result, 'risky').reason, 'test rule: risky name');
      const blocked = byName(result, 'uses-evil');
      assert.equal(blocked.state, 'blocked');
      assert.deepEqual(blocked.blockedBy, {
        name: 'evil-dep',
        version: '2.0.0',
        path: ['uses-evil@1.0.0', 'evil-dep@2.0.0'],
      });
      const git = byName(result, 'from-git');
      assert.equal(git.state, 'unvettable');
      assert.match(git.reason ?? '', /git repository/);
      assert.deepEqual(result.counts, {
        total: 6,
        pending: 0,
        analyzing: 0,
        approved: 2,
        rejected: 1,
        review: 1,
        blocked: 1,
        unvettable: 1,
      });

      // The verdict belongs to the artifact: readable by name (scoped, encoded) and reused.
      const verdict = await server.json<PackageVerdictResponse>('GET', '/api/v1/packages/@scope%2fpkg/3.1.4');
      assert.equal(verdict.status, 200);
      assert.equal(verdict.body.verdict, 'approved');
      assert.equal(verdict.body.integrity, integrity('@scope/pkg@3.1.4'));
      assert.equal(verdict.body.ruleSetVersion, 'test-1');
      // The stand-in analyzer's static report, judged by its rule set through decide().
      const reports = readArtifactReports(verdict.body.reports);
      assert.equal(reports.static?.name, '@scope/pkg');
      assert.equal(reports.decision?.ruleSetVersion, 'test-1');
      const unencoded = await server.json<PackageVerdictResponse>('GET', '/api/v1/packages/@scope/pkg/3.1.4');
      assert.equal(unencoded.body.verdict, 'approved');
      const missing = await server.json<{ error: string; code: string }>(
        'GET',
        '/api/v1/packages/nope/1.0.0',
      );
      assert.equal(missing.status, 404);
      assert.equal(missing.body.code, 'ERR_SR_PACKAGE_NOT_FOUND');

      const callsBefore = analyzer.calls.get('good@1.0.0');
      const again = await server.json<ScanSummary>('POST', SCANS, { graph });
      assert.equal(again.status, 201);
      assert.equal(again.body.status, 'completed', 'every verdict is reused: the scan completes at once');
      assert.equal(analyzer.calls.get('good@1.0.0'), callsBefore);
    });

    test('an identical artifact in two concurrent scans runs one job', async () => {
      const node = { name: 'shared', version: '1.0.0', integrity: integrity('shared@1.0.0') };
      const [a, b] = await Promise.all([
        server.json<ScanSummary>('POST', SCANS, { graph: makeGraph([node]) }),
        server.json<ScanSummary>('POST', SCANS, { graph: makeGraph([node]) }),
      ]);
      const [ra, rb] = await Promise.all([server.waitForScan(a.body.id), server.waitForScan(b.body.id)]);
      assert.equal(ra.packages[0]?.state, 'approved');
      assert.equal(rb.packages[0]?.state, 'approved');
      assert.equal(analyzer.calls.get('shared@1.0.0'), 1);
      assert.equal(upstream.count(upstream.tarballPath('shared', '1.0.0')), 1);
    });

    test('a registry node without lockfile integrity takes upstream dist.integrity', async () => {
      await upstream.add({ name: 'no-integrity', version: '1.0.0' });
      const created = await server.json<ScanSummary>('POST', SCANS, {
        graph: makeGraph([{ name: 'no-integrity', version: '1.0.0' }]),
      });
      const result = await server.waitForScan(created.body.id);
      assert.equal(result.packages[0]?.state, 'approved');
      assert.equal(result.packages[0]?.integrity, integrity('no-integrity@1.0.0'));
    });
  });
}

describe('fail closed', () => {
  let upstream: FakeUpstream;
  before(async () => {
    upstream = await new FakeUpstream().start();
  });
  after(() => upstream.close());

  test('a tarball that does not match the lockfile integrity is rejected with a critical finding', async () => {
    const built = await upstream.add({ name: 'tampered', version: '1.0.0' });
    const other = await upstream.add({ name: 'other', version: '1.0.0', files: { 'x.js': 'x' } });
    const analyzer = namePatternAnalyzer();
    const server = await startTestServer({ upstream: upstream.url, analyzer });
    try {
      const created = await server.json<ScanSummary>('POST', SCANS, {
        graph: makeGraph([{ name: 'tampered', version: '1.0.0', integrity: other.integrity }]),
      });
      const result = await server.waitForScan(created.body.id);
      const pkg = result.packages[0]!;
      assert.equal(pkg.state, 'rejected');
      const finding = pkg.findings.find((f) => f.rule === 'integrity-mismatch');
      assert.ok(finding);
      assert.equal(finding.severity, 'critical');
      const excerpt = finding.evidence[0]?.excerpt ?? '';
      assert.ok(excerpt.includes(`expected ${other.integrity}`), excerpt);
      assert.ok(excerpt.includes(`actual ${built.integrity}`), excerpt);
      assert.equal(analyzer.calls.size, 0, 'mismatching bytes are never analysed or stored');
    } finally {
      await server.dispose();
    }
  });

  test('a registry whose dist.integrity disagrees with the bytes is rejected', async () => {
    const other = await upstream.add({ name: 'other2', version: '1.0.0', files: { 'y.js': 'y' } });
    const built = await upstream.add({
      name: 'lying-registry',
      version: '1.0.0',
      distIntegrity: other.integrity,
    });
    const server = await startTestServer({ upstream: upstream.url, analyzer: namePatternAnalyzer() });
    try {
      const created = await server.json<ScanSummary>('POST', SCANS, {
        graph: makeGraph([{ name: 'lying-registry', version: '1.0.0', integrity: built.integrity }]),
      });
      const pkg = (await server.waitForScan(created.body.id)).packages[0]!;
      assert.equal(pkg.state, 'rejected');
      assert.equal(pkg.findings[0]?.rule, 'integrity-mismatch');
      assert.equal(pkg.findings[0]?.evidence[0]?.detail, 'upstream dist.integrity');
    } finally {
      await server.dispose();
    }
  });

  test('upstream 500 is retried a bounded number of times, then held as an infrastructure failure (never approved)', async () => {
    const built = await upstream.add({ name: 'flaky', version: '1.0.0' });
    upstream.rules.set(upstream.tarballPath('flaky', '1.0.0'), { status: 500 });
    const server = await startTestServer({ upstream: upstream.url, analyzer: namePatternAnalyzer() });
    try {
      const created = await server.json<ScanSummary>('POST', SCANS, {
        graph: makeGraph([{ name: 'flaky', version: '1.0.0', integrity: built.integrity }]),
      });
      const pkg = (await server.waitForScan(created.body.id)).packages[0]!;
      assert.equal(pkg.state, 'review');
      assert.equal(pkg.findings[0]?.rule, 'upstream-unavailable');
      assert.equal(pkg.failure?.kind, 'infrastructure');
      assert.match(pkg.failure?.reason ?? '', /500/);
      assert.equal(
        upstream.count(upstream.tarballPath('flaky', '1.0.0')),
        3,
        'attempts are bounded (3: the upstream client retries, the job runner does not again)',
      );
      assert.equal(await server.store.countJobs('failed'), 1);
    } finally {
      upstream.rules.clear();
      await server.dispose();
    }
  });

  test('an analysis exception and a version missing upstream are held for review', async () => {
    const built = await upstream.add({ name: 'crashes-analyzer', version: '1.0.0' });
    const analyzer = throwingAnalyzer('parser exploded');
    const server = await startTestServer({ upstream: upstream.url, analyzer });
    try {
      const created = await server.json<ScanSummary>('POST', SCANS, {
        graph: makeGraph([
          { name: 'crashes-analyzer', version: '1.0.0', integrity: built.integrity },
          { name: 'crashes-analyzer-missing', version: '9.9.9', integrity: built.integrity },
        ]),
      });
      const result = await server.waitForScan(created.body.id);
      for (const pkg of result.packages) {
        assert.equal(pkg.state, 'review', pkg.name);
        assert.equal(pkg.findings[0]?.rule, 'analysis-failed');
      }
      assert.match(result.packages[0]!.reason ?? '', /parser exploded/);
      assert.match(result.packages[1]!.reason ?? '', /does not exist upstream/);
      assert.equal(analyzer.calls, 2, 'retried once, then given up');
    } finally {
      await server.dispose();
    }
  });
});

describe('request validation', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({
      upstream: 'http://127.0.0.1:9/',
      analyzer: namePatternAnalyzer(),
      bodyLimit: 4096,
    });
  });
  after(() => server.dispose());

  test('an oversize body is refused with 413 and a JSON error', async () => {
    const nodes = Array.from({ length: 200 }, (_, i) => ({
      name: `p${i}`,
      version: '1.0.0',
      integrity: 'sha512-AAAA',
    }));
    const response = await server.json<{ error: string; code: string }>('POST', SCANS, {
      graph: makeGraph(nodes),
    });
    assert.equal(response.status, 413);
    assert.equal(response.body.code, 'ERR_SR_BODY_TOO_LARGE');
    assert.match(response.body.error, /too large/);
  });

  test('an invalid body is a 400 naming the problem; malformed JSON too', async () => {
    const invalid = await server.json<{ error: string; code: string }>('POST', SCANS, {
      graph: { nodes: 'x' },
    });
    assert.equal(invalid.status, 400);
    assert.equal(invalid.body.code, 'ERR_SR_INVALID_BODY');
    assert.match(invalid.body.error, /graph\./);
    const malformed = await server.json<{ error: string; code: string }>('POST', SCANS, '{"graph": [');
    assert.equal(malformed.status, 400);
    assert.equal(malformed.body.code, 'ERR_SR_BAD_REQUEST');
    const duplicate = makeGraph([{ name: 'a', version: '1.0.0', source: 'file' }]);
    duplicate.nodes.push(duplicate.nodes[0]!);
    const dup = await server.json<{ code: string }>('POST', SCANS, { graph: duplicate });
    assert.equal(dup.status, 400);
    assert.equal(dup.body.code, 'ERR_SR_DUPLICATE_NODE');
  });

  test('unknown scans and routes are JSON 404s; health reports the storage', async () => {
    const scan = await server.json<{ code: string }>('GET', `${SCANS}/does-not-exist`);
    assert.equal(scan.status, 404);
    assert.equal(scan.body.code, 'ERR_SR_SCAN_NOT_FOUND');
    const route = await server.json<{ code: string }>('GET', '/api/v1/nope');
    assert.equal(route.status, 404);
    assert.equal(route.body.code, 'ERR_SR_NOT_FOUND');
    const health = await server.json<{ ok: boolean; storage: string }>('GET', '/healthz');
    assert.deepEqual({ ok: health.body.ok, storage: health.body.storage }, { ok: true, storage: 'sqlite' });
  });

  test('a scan of only unvettable packages completes immediately', async () => {
    const created = await server.json<ScanSummary>('POST', SCANS, {
      graph: makeGraph([
        { name: 'local', version: '1.0.0', source: 'file' },
        { name: 'linked', version: '1.0.0', source: 'link' },
      ]),
    });
    assert.equal(created.status, 201);
    assert.equal(created.body.status, 'completed');
    assert.equal(created.body.counts.unvettable, 2);
  });
});
