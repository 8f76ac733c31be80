import { strict as assert } from 'node:assert';
import { after, before, describe, test } from 'node:test';
import type { ScanResult } from '@secure-registry/shared';
import { FakeUpstream } from '../test-support/fake-upstream.js';
import { fixtureVersion } from '../test-support/fixture-version.js';
import { makeGraph, type NodeSpec } from '../test-support/graph.js';
import { startTestServer, type TestServer } from '../test-support/harness.js';

/**
 * Writes outside the package, end to end with the real sandbox: the fixtures that destroy or
 * tamper with the project, other packages or the user's configuration are blocked by the footprint
 * rules; their benign look-alikes (hook installers, a worker copy, generated code, caches) are
 * approved.
 */
describe('footprint fixtures through the pipeline with the real sandbox', { timeout: 900_000 }, () => {
  let upstream: FakeUpstream;
  let server: TestServer;
  let result: ScanResult;
  const malicious = {
    'malicious/protestware': { state: 'rejected', rule: 'project-destruction' },
    'malicious/project-wiper': { state: 'rejected', rule: 'project-destruction' },
    'malicious/neighbour-rewrite': { state: 'rejected', rule: 'package-tampering' },
    'malicious/home-config-tamper': { state: 'rejected', rule: 'home-write' },
  } as const;
  const benign = [
    'malicious/benign/husky-like',
    'malicious/benign/simple-git-hooks-like',
    'malicious/benign/msw-like',
    'malicious/benign/prisma-like',
    'malicious/benign/cache-writer',
  ];
  const dependencies = [
    'signals/termcolor/1.0.0',
    'signals/dropper/2.3.0',
    'malicious/benign/banner-postinstall',
  ];
  const stateOf = (dir: string) => {
    const name = fixtureVersion(dir).name;
    const found = result.packages.find((p) => p.name === name);
    assert.ok(found, `${name} in the scan`);
    return found;
  };

  before(async () => {
    upstream = await new FakeUpstream().start();
    server = await startTestServer({
      upstream: upstream.url,
      sandbox: { timeoutMs: 40_000, graceMs: 1_500 },
      // The harness's 5 s lease expires at load 20 on two cores while jobs are alive; they are
      // reclaimed until they count as interrupted.
      leaseMs: 60_000,
    });
    // Two smaller scans rather than one of twelve: twelve install phases at once on a loaded
    // two-core machine outlast the scan's timeout.
    result = { packages: [] } as unknown as ScanResult;
    for (const dirs of [[...Object.keys(malicious), ...dependencies], benign]) {
      const nodes: NodeSpec[] = [];
      for (const dir of dirs) {
        const f = fixtureVersion(dir);
        const built = await upstream.add(f);
        const deps = Object.keys((f.manifest.dependencies as Record<string, string> | undefined) ?? {});
        nodes.push({ name: f.name, version: f.version, integrity: built.integrity, deps });
      }
      const created = await server.json<{ id: string }>('POST', '/api/v1/scans', { graph: makeGraph(nodes) });
      const scan = await server.waitForScan(created.body.id, 400_000);
      result.packages.push(...scan.packages);
    }
  });
  after(async () => {
    await server?.dispose();
    await upstream?.close();
  });

  for (const [dir, expected] of Object.entries(malicious)) {
    test(`${dir} is ${expected.state} by ${expected.rule}`, () => {
      const p = stateOf(dir);
      const finding = p.findings.find((f) => f.rule === expected.rule);
      assert.ok(
        finding,
        `${p.name}: ${JSON.stringify(p.findings.map((f) => [f.rule, f.severity, f.message]))}`,
      );
      assert.equal(finding.severity, 'critical', finding.message);
      assert.ok(finding.evidence.length > 0);
      assert.equal(p.state, expected.state);
    });
  }

  test('benign look-alikes (husky, simple-git-hooks, msw, prisma, cache writer) are approved', () => {
    for (const dir of benign) {
      const p = stateOf(dir);
      assert.equal(
        p.state,
        'approved',
        `${p.name}: ${JSON.stringify(p.findings.map((f) => [f.rule, f.severity, f.message]))}`,
      );
    }
  });

  test('the msw-like worker copy is recognised as a copy of its own file', () => {
    const p = stateOf('malicious/benign/msw-like');
    const copy = p.findings.find((f) => f.rule === 'project-write');
    assert.ok(copy, JSON.stringify(p.findings));
    assert.equal(copy.severity, 'info');
    assert.match(copy.message, /public\/mockServiceWorker\.js \(from .*lib\/mockServiceWorker\.js\)/);
  });
});
