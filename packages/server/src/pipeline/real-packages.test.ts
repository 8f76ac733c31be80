import { strict as assert } from 'node:assert';
import { after, before, describe, test } from 'node:test';
import type { PackageVerdictResponse, ScanResult } from '@secure-registry/shared';
import { phaseSummariesOf, readArtifactReports } from '@secure-registry/shared';
import { makeGraph } from '../test-support/graph.js';
import { startTestServer, type TestServer } from '../test-support/harness.js';

/**
 * Real packages with install scripts, from registry.npmjs.org, through the static and dynamic
 * stages (their scripts run only inside the sandbox). The benign look-alikes of THREATS.md: a
 * platform check that falls back to the registry (esbuild), a postinstall banner (core-js), native
 * modules with prebuilt binaries (sharp, bcrypt), a browser download (puppeteer). Pinned versions.
 * The install phase runs with each package's dependencies present as npm would install them, so the
 * scripts do what they really do (esbuild's finds its platform package and runs its binary).
 */
const REAL = [
  [
    'esbuild',
    '0.25.10',
    'sha512-9RiGKvCwaqxO2owP61uQ4BgNborAQskMR6QusfWzQqv7AZOg5oGehdY2pRJMTKuwxd1IDBP4rSbI5lHzU7SMsQ==',
  ],
  [
    'core-js',
    '3.45.1',
    'sha512-L4NPsJlCfZsPeXukyzHFlg/i7IIVwHSItR0wg0FLNqYClJ4MQYTYLbC7EkjKYRLZF2iof2MUgN0EGy7MdQFChg==',
  ],
  [
    'sharp',
    '0.33.5',
    'sha512-haPVm1EkS9pgvHrQ/F3Xy+hgcuMV0Wm9vfIBSiwZ05k+xgb0PkBQpGsAA/oWdDobNaZTH5ppvHtzCFbnSEwHVw==',
  ],
  [
    'sharp',
    '0.34.4',
    'sha512-FUH39xp3SBPnxWvd5iib1X8XY7J0K0X7d93sie9CJg2PO8/7gmg89Nve6OjItK53/MlAushNNxteBYfM6DEuoA==',
  ],
  [
    'bcrypt',
    '6.0.0',
    'sha512-cU8v/EGSrnH+HnxV2z0J7/blxH8gq7Xh2JFT6Aroax7UohdmiJJlxApMxtKfuI7z68NvvVcmR78k2LbT6efhRg==',
  ],
  [
    'puppeteer',
    '24.22.0',
    'sha512-QabGIvu7F0hAMiKGHZCIRHMb6UoH0QAJA2OaqxEU2tL5noXPrxUcotg2l3ttOA4p1PFnVIGkr6PXRAWlM2evVQ==',
  ],
] as const;

describe(
  'real benign packages with install scripts (npm registry, real sandbox)',
  { timeout: 300_000 },
  () => {
    let server: TestServer;
    const results: ScanResult[] = [];
    const lines: string[] = [];

    before(async () => {
      server = await startTestServer({
        upstream: 'https://registry.npmjs.org/',
        upstreamTimeoutMs: 60_000,
        sandbox: { timeoutMs: 60_000 },
      });
      // One version of a name per scan (a lockfile holds one per install path).
      const scans: (typeof REAL)[number][][] = [];
      for (const entry of REAL) {
        const free = scans.find((scan) => !scan.some(([name]) => name === entry[0]));
        if (free) free.push(entry);
        else scans.push([entry]);
      }
      const created = await Promise.all(
        scans.map((scan) => {
          const graph = makeGraph(scan.map(([name, version, integrity]) => ({ name, version, integrity })));
          return server.json<{ id: string }>('POST', '/api/v1/scans', { graph });
        }),
      );
      for (const scan of created) results.push(await server.waitForScan(scan.body.id, 280_000));
    });
    after(async () => {
      for (const line of lines) process.stdout.write(`# ${line}\n`);
      await server?.dispose();
    });

    for (const [name, version] of REAL) {
      test(`${name}@${version}: sandboxed phases completed, no high-severity finding`, async () => {
        const p = results.flatMap((r) => r.packages).find((x) => x.name === name && x.version === version);
        assert.ok(p, `${name} in the scan`);
        const stored = await server.json<PackageVerdictResponse>(
          'GET',
          `/api/v1/packages/${name}/${version}`,
        );
        const reports = readArtifactReports(stored.body.reports);
        const install = reports.install?.summary;
        assert.ok(install, 'the install phase ran');
        for (const ph of phaseSummariesOf(reports)) {
          lines.push(
            `${name}@${version} ${ph.phase}: ${ph.durationMs} ms (${ph.status}, exit ${ph.exitCode ?? '-'})`,
          );
          assert.equal(ph.status, 'completed', `${name} ${ph.phase}`);
        }
        const deps = install.dependencies;
        lines.push(
          `${name}@${version} install dependencies: ${deps?.present} present (${deps?.bytes} bytes, ${deps?.durationMs} ms), ${deps?.skipped.length} optional skipped`,
        );
        assert.ok(deps, 'the install phase ran with the dependency installer');
        // core-js has no dependencies; the others' scripts need theirs.
        if (name !== 'core-js') assert.ok(deps.present > 0, JSON.stringify(deps));
        assert.deepEqual(deps.issues, [], 'every dependency npm would install is present');
        const events = reports.install?.events ?? [];
        if (name === 'esbuild') {
          // install.js finds @esbuild/linux-<arch> in node_modules and checks its binary: no download.
          assert.equal(install.exitCode, 0, JSON.stringify(install));
          const platformPackage = `/node_modules/@esbuild/${process.platform}-${process.arch}/`;
          assert.ok(
            events.some((e) => e.kind === 'file' && e.path.includes(platformPackage)),
            `${platformPackage} read`,
          );
          assert.ok(
            events.some(
              (e) => e.kind === 'process' && e.argv.some((a) => a.endsWith('/esbuild/bin/esbuild')),
            ),
            'the esbuild binary ran',
          );
          assert.ok(!events.some((e) => e.kind === 'http' || e.kind === 'dns'), 'no network');
        }
        if (name === 'sharp') {
          // install/check requires detect-libc and semver (it exited 0 without them too, having done nothing).
          assert.equal(install.exitCode, 0, JSON.stringify(install));
          assert.ok(
            events.some((e) => e.kind === 'file' && e.path.includes('/node_modules/detect-libc/')),
            'detect-libc loaded from node_modules',
          );
        }
        if (name === 'bcrypt') {
          // node-gyp-build, linked in node_modules/.bin as npm links it, finds the prebuilt binary.
          assert.equal(install.exitCode, 0, JSON.stringify(install));
          assert.ok(
            events.some(
              (e) => e.kind === 'process' && e.argv.some((a) => a.endsWith('/.bin/node-gyp-build')),
            ),
            'node-gyp-build ran from node_modules/.bin',
          );
        }
        if (name === 'puppeteer') {
          // With its dependencies, install.mjs gets as far as downloading Chrome (from the fake internet).
          assert.ok(
            events.some((e) => e.kind === 'dns' && e.name === 'storage.googleapis.com'),
            'the browser download was attempted',
          );
        }
        const serious = p.findings.filter((f) => f.severity === 'high' || f.severity === 'critical');
        lines.push(`${name}: ${p.state}; ${p.findings.map((f) => `${f.rule}/${f.severity}`).join(', ')}`);
        assert.deepEqual(serious, [], JSON.stringify(serious, null, 1));
        assert.equal(p.state, 'approved', p.reason);
      });
    }
  },
);
