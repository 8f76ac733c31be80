import { strict as assert } from 'node:assert';
import { after, before, describe, test } from 'node:test';
import type { PackageVerdictResponse, ScanResult } from '@secure-registry/shared';
import { readArtifactReports } from '@secure-registry/shared';
import { FakeUpstream } from '../test-support/fake-upstream.js';
import { fixtureVersion } from '../test-support/fixture-version.js';
import { makeGraph } from '../test-support/graph.js';
import { startTestServer, type TestServer } from '../test-support/harness.js';

const fixture = (dir: string) => fixtureVersion(`malicious/${dir}`);

describe(
  'the pipeline against evasion: long timers, DNS probes, CI checks (real sandbox)',
  { timeout: 900_000 },
  () => {
    let upstream: FakeUpstream;
    let server: TestServer;
    let result: ScanResult;
    const names = {
      hour: 'timer-unref-hour',
      probe: 'dns-probe-evasion',
      ciOnly: 'ci-only-exfil',
      beacon: 'ci-aware-beacon',
      timers: 'benign/timer-user',
      prebuilt: 'benign/prebuilt-download',
      hooks: 'benign/ci-skip-hooks',
    };
    const pkg = (key: keyof typeof names) => {
      const f = fixture(names[key]);
      const found = result.packages.find((p) => p.name === f.name);
      assert.ok(found, `${f.name} in the scan`);
      return found;
    };
    const rules = (key: keyof typeof names) =>
      JSON.stringify(pkg(key).findings.map((f) => [f.rule, f.severity, f.message, f.evidence[0]?.excerpt]));
    const stored = async (key: keyof typeof names) => {
      const p = pkg(key);
      return (await server.json<PackageVerdictResponse>('GET', `/api/v1/packages/${p.name}/${p.version}`))
        .body;
    };

    before(async () => {
      upstream = await new FakeUpstream().start();
      // A long lease: on a loaded machine the server's event loop can stall for seconds between renewals.
      server = await startTestServer({
        upstream: upstream.url,
        sandbox: { timeoutMs: 40_000, graceMs: 1_500 },
        leaseMs: 60_000,
      });
      const nodes = [];
      for (const dir of Object.values(names)) {
        const f = fixture(dir);
        const built = await upstream.add(f);
        nodes.push({ name: f.name, version: f.version, integrity: built.integrity });
      }
      const created = await server.json<{ id: string }>('POST', '/api/v1/scans', { graph: makeGraph(nodes) });
      result = await server.waitForScan(created.body.id, 880_000);
    });
    after(async () => {
      await server?.dispose();
      await upstream?.close();
    });

    test('an import-time payload on a one-hour unref()ed timer is rejected on its egress', () => {
      for (const key of ['hour'] as const) {
        assert.equal(pkg(key).state, 'rejected', rules(key));
        // The egress is the import phase's (the timer fired there, accelerated), not only the browser's.
        const egress = pkg(key).findings.filter((f) => f.rule === 'honeytoken-egress');
        assert.ok(
          egress.some((f) => f.message.startsWith('import: ')),
          rules(key),
        );
      }
    });

    test('a payload that acts only when its probe name gets NXDOMAIN is rejected; both DNS rounds are in the report', async () => {
      assert.equal(pkg('probe').state, 'rejected', rules('probe'));
      const egress = pkg('probe').findings.find((f) => f.rule === 'honeytoken-egress');
      assert.match(egress?.message ?? '', /nx-exfil\.example/);
      const variants = readArtifactReports((await stored('probe')).reports).install?.report.variants;
      assert.ok(
        variants?.some((v) => v.includes('strict DNS')),
        JSON.stringify(variants),
      );
      assert.ok(variants?.some((v) => v.includes('resolving')));
    });

    test('a CI-only payload is rejected (the CI variant), with the difference between the variants as evidence', () => {
      assert.equal(pkg('ciOnly').state, 'rejected', rules('ciOnly'));
      const diff = pkg('ciOnly').findings.find((f) => f.rule === 'environment-differential');
      assert.ok(diff, rules('ciOnly'));
      assert.match(diff.message, /only on a CI runner.*not on a developer's laptop/);
    });

    test('behaviour outside the footprint only where CI is absent is held by environment-differential', () => {
      const diff = pkg('beacon').findings.find((f) => f.rule === 'environment-differential');
      assert.ok(diff, rules('beacon'));
      assert.equal(diff.severity, 'high');
      assert.match(diff.message, /only on a developer's laptop.*not on a CI runner/);
      assert.notEqual(pkg('beacon').state, 'approved');
    });

    test('benign look-alikes (timers at import, a prebuilt download and a hook installer that skip in CI) are approved', () => {
      for (const key of ['timers', 'prebuilt', 'hooks'] as const) {
        assert.equal(pkg(key).state, 'approved', `${pkg(key).name}: ${rules(key)}`);
        assert.ok(!pkg(key).findings.some((f) => f.rule === 'environment-differential'), rules(key));
      }
    });
  },
);
