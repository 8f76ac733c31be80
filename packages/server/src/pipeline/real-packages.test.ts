import { strict as assert } from 'node:assert';
import { after, before, describe, test } from 'node:test';
import type { PackageVerdictResponse, ScanResult } from '@secure-registry/shared';
import { makeGraph } from '../test-support/graph.js';
import { startTestServer, type TestServer } from '../test-support/harness.js';

/**
 * Real packages with install scripts, from registry.npmjs.org, through the static and dynamic
 * stages (their scripts run only inside the sandbox). The benign look-alikes of THREATS.md: a
 * platform check that falls back to the registry (esbuild), a postinstall banner (core-js), native
 * modules with prebuilt binaries (sharp, bcrypt), a browser download (puppeteer). Pinned versions.
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
    let result: ScanResult;
    const lines: string[] = [];

    before(async () => {
      server = await startTestServer({
        upstream: 'https://registry.npmjs.org/',
        upstreamTimeoutMs: 60_000,
        sandbox: { timeoutMs: 60_000 },
      });
      const graph = makeGraph(REAL.map(([name, version, integrity]) => ({ name, version, integrity })));
      const created = await server.json<{ id: string }>('POST', '/api/v1/scans', { graph });
      result = await server.waitForScan(created.body.id, 280_000);
    });
    after(async () => {
      for (const line of lines) process.stdout.write(`# ${line}\n`);
      await server?.dispose();
    });

    for (const [name, version] of REAL) {
      test(`${name}@${version}: sandboxed phases completed, no high-severity finding`, async () => {
        const p = result.packages.find((x) => x.name === name);
        assert.ok(p, `${name} in the scan`);
        const stored = await server.json<PackageVerdictResponse>(
          'GET',
          `/api/v1/packages/${name}/${version}`,
        );
        const sandbox = stored.body.reports.sandbox as
          { phases: { phase: string; status: string; durationMs: number; exitCode?: number }[] } | undefined;
        assert.ok(sandbox && sandbox.phases.some((ph) => ph.phase === 'install'), 'the install phase ran');
        for (const ph of sandbox.phases) {
          lines.push(`${name} ${ph.phase}: ${ph.durationMs} ms (${ph.status}, exit ${ph.exitCode ?? '-'})`);
          assert.equal(ph.status, 'completed', `${name} ${ph.phase}`);
        }
        const serious = p.findings.filter((f) => f.severity === 'high' || f.severity === 'critical');
        lines.push(`${name}: ${p.state}; ${p.findings.map((f) => `${f.rule}/${f.severity}`).join(', ')}`);
        assert.deepEqual(serious, [], JSON.stringify(serious, null, 1));
        assert.equal(p.state, 'approved', p.reason);
      });
    }
  },
);
