import { strict as assert } from 'node:assert';
import { after, before, describe, test } from 'node:test';
import type { PackageVerdictResponse, ScanResult } from '@secure-registry/shared';
import { phaseSummariesOf, readArtifactReports } from '@secure-registry/shared';
import { FakeUpstream } from '../test-support/fake-upstream.js';
import { fixtureVersion } from '../test-support/fixture-version.js';
import { makeGraph } from '../test-support/graph.js';
import { startTestServer, type TestServer } from '../test-support/harness.js';
import { plannedPhases } from './dynamic-stage.js';

/** A fixture of fixtures/packages/malicious (benign look-alikes under its benign/) as FakeUpstream input. */
const fixture = (dir: string) => fixtureVersion(`malicious/${dir}`);

describe('plannedPhases', () => {
  const files = (...paths: string[]) => new Set(paths);
  test('install for lifecycle scripts or binding.gyp, import and browser for loadable entries', () => {
    assert.deepEqual(plannedPhases({ scripts: { postinstall: 'node x.js' } }, files('x.js')), ['install']);
    assert.deepEqual(plannedPhases({}, files('binding.gyp', 'index.js')), ['install', 'import', 'browser']);
    assert.deepEqual(plannedPhases({ main: 'lib/a.js' }, files('lib/a.js')), ['import', 'browser']);
    assert.deepEqual(plannedPhases({ main: 'index.d.ts' }, files('index.d.ts', 'README.md')), []);
    assert.deepEqual(plannedPhases(undefined, files('index.js')), []);
  });
});

describe('the pipeline with the real sandbox (static + dynamic)', { timeout: 600_000 }, () => {
  let upstream: FakeUpstream;
  let server: TestServer;
  let result: ScanResult;
  const timings: string[] = [];
  const names = {
    exfil: 'exfil-https',
    shell: 'reverse-shell',
    workflow: 'workflow-injection',
    hook: 'browser-hook',
    dump: 'import-env-dump',
    banner: 'benign/banner-postinstall',
    husky: 'benign/hook-installer',
  };
  const pkg = (key: keyof typeof names) => {
    const f = fixture(names[key]);
    const found = result.packages.find((p) => p.name === f.name);
    assert.ok(found, `${f.name} in the scan`);
    return found;
  };

  before(async () => {
    upstream = await new FakeUpstream().start();
    server = await startTestServer({
      upstream: upstream.url,
      sandbox: { timeoutMs: 40_000, graceMs: 1_500 },
      // Install phases run under several variants (./variant-runs.ts): a job lasts long enough that, on a
      // loaded machine, a stalled event loop can miss a short lease's renewals.
      leaseMs: 60_000,
    });
    const nodes = [];
    for (const dir of Object.values(names)) {
      const f = fixture(dir);
      const built = await upstream.add(f);
      nodes.push({ name: f.name, version: f.version, integrity: built.integrity });
    }
    const created = await server.json<{ id: string }>('POST', '/api/v1/scans', { graph: makeGraph(nodes) });
    result = await server.waitForScan(created.body.id, 580_000);
  });
  after(async () => {
    for (const line of timings) process.stdout.write(`# ${line}\n`);
    await server?.dispose();
    await upstream?.close();
  });

  test('exfil-https is rejected by honeytoken-egress with the destination and payload excerpt', async () => {
    const p = pkg('exfil');
    assert.equal(p.state, 'rejected');
    const f = p.findings.find((x) => x.rule === 'honeytoken-egress');
    assert.ok(f, JSON.stringify(p.findings.map((x) => x.rule)));
    assert.equal(f.severity, 'critical');
    assert.match(f.message, /exfil\.example/);
    assert.ok(
      f.evidence.some(
        (e) => e.kind === 'event' && e.eventSeq !== undefined && /NPM_TOKEN|npm_/.test(e.excerpt ?? ''),
      ),
    );
    // The stored verdict keeps the behaviour report and the raw events beside it.
    const stored = await server.json<PackageVerdictResponse>(
      'GET',
      `/api/v1/packages/${p.name}/${p.version}`,
    );
    const reports = readArtifactReports(stored.body.reports);
    const install = reports.install;
    assert.ok(install && install.report.honeytokenHits.length > 0);
    assert.ok(install.events.some((e) => e.kind === 'http'));
    for (const ph of phaseSummariesOf(reports))
      timings.push(`${p.name} ${ph.phase}: ${ph.durationMs} ms (${ph.status})`);
  });

  test('reverse-shell is rejected by reverse-shell with the target address', () => {
    const f = pkg('shell').findings.find((x) => x.rule === 'reverse-shell');
    assert.equal(pkg('shell').state, 'rejected');
    assert.equal(f?.severity, 'critical');
    assert.match(f?.message ?? '', /198\.51\.100\.7:4444/);
  });

  test('workflow-injection is rejected by ci-workflow-write with the workflow path', () => {
    const f = pkg('workflow').findings.find((x) => x.rule === 'ci-workflow-write');
    assert.equal(pkg('workflow').state, 'rejected');
    assert.ok(f?.evidence.some((e) => e.path?.endsWith('.github/workflows/shai-hulud-workflow.yml')));
  });

  test('browser-hook is rejected by browser-hook-runtime (recipient rewritten in the browser phase)', () => {
    const p = pkg('hook');
    const f = p.findings.find((x) => x.rule === 'browser-hook-runtime');
    assert.equal(p.state, 'rejected');
    assert.equal(f?.severity, 'critical');
    assert.ok(f?.evidence.some((e) => e.detail?.includes('browser phase')));
  });

  test('import phases ran batched; the env dump was run again alone and rejected on its own evidence', async () => {
    const importOf = async (key: keyof typeof names) => {
      const p = pkg(key);
      const stored = await server.json<PackageVerdictResponse>(
        'GET',
        `/api/v1/packages/${p.name}/${p.version}`,
      );
      return readArtifactReports(stored.body.reports).import?.summary;
    };
    const dump = pkg('dump');
    assert.equal(dump.state, 'rejected', JSON.stringify(dump.findings));
    const hit = dump.findings.find((x) => x.rule === 'honeytoken-egress');
    assert.match(hit?.message ?? '', /env-dump\.example/);
    const sizes = await Promise.all((['dump', 'banner', 'husky', 'hook'] as const).map(importOf));
    assert.ok(
      sizes.some((ph) => (ph?.batch?.size ?? 0) > 1),
      `some import phase ran in a batch: ${JSON.stringify(sizes)}`,
    );
    // Its batch report either was its own (alone in its loader) or was replaced by a run alone.
    const own = await importOf('dump');
    assert.ok(own?.batch, JSON.stringify(own));
  });

  test('benign look-alikes (core-js-style banner, husky-style hook installer) are approved', () => {
    for (const key of ['banner', 'husky'] as const) {
      const p = pkg(key);
      assert.equal(p.state, 'approved', `${p.name}: ${JSON.stringify(p.findings)}`);
    }
    const hooks = pkg('husky').findings.find((x) => x.rule === 'persistence-write');
    assert.equal(hooks?.severity, 'low');
  });
});

describe('the pipeline when the sandbox is unavailable', () => {
  test('a package with an install script is held (fail closed), naming what is missing', async () => {
    const upstream = await new FakeUpstream().start();
    const server = await startTestServer({
      upstream: upstream.url,
      sandbox: { checkSupport: async () => ({ ok: false, missing: ['bwrap'], details: [] }) },
    });
    try {
      const built = await upstream.add({
        name: 'needs-sandbox',
        version: '1.0.0',
        files: { 'index.js': 'module.exports = 1;\n', 'setup.js': "console.log('ok');\n" },
        manifest: { scripts: { postinstall: 'node setup.js' } },
      });
      const created = await server.json<{ id: string }>('POST', '/api/v1/scans', {
        graph: makeGraph([{ name: 'needs-sandbox', version: '1.0.0', integrity: built.integrity }]),
      });
      const result = await server.waitForScan(created.body.id);
      const p = result.packages[0];
      assert.equal(p?.state, 'review');
      const failure = p?.findings.find((f) => f.rule === 'sandbox-failure');
      assert.equal(failure?.severity, 'high');
      assert.ok(failure?.evidence.some((e) => e.excerpt?.includes('sandbox unavailable: missing bwrap')));
    } finally {
      await server.dispose();
      await upstream.close();
    }
  });
});
