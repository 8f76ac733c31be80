import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import type { BatchPackage, BatchRun } from './batch-types.js';
import { runBatch } from './run-batch.js';
import { BENIGN, describeRun, MALICIOUS, ofKind, runFixture, token } from './test-support/fixtures.js';

const fixture = (dir: string): BatchPackage => {
  const m = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name: string; version: string };
  return { name: m.name, version: m.version, dir };
};
const describeBatch = (run: BatchRun): string =>
  JSON.stringify({
    status: run.status,
    details: run.details,
    packages: run.packages.map((p) => [p.id, p.status, p.error, p.events.filter((e) => EGRESS.has(e.kind))]),
  }).slice(0, 6000);
const EGRESS = new Set(['dns', 'http', 'tls', 'tcp-data', 'decoy', 'browser']);
const egressOf = (run: BatchRun, name: string) =>
  run.packages
    .find((p) => p.name === name)
    ?.events.filter((e) => EGRESS.has(e.kind) && e.package !== undefined) ?? [];

describe('sandbox: long timers fire within the import and browser phases (time acceleration)', () => {
  test('an unref()ed one-hour import-time timer fires, and the clocks say an hour passed', async () => {
    const run = await runFixture(join(MALICIOUS, 'timer-unref-hour'), 'import', { graceMs: 1_000 });
    assert.equal(run.status, 'completed', describeRun(run));
    const post = ofKind(run, 'http').find((e) => e.host === 'late-hour.example' && e.method === 'POST');
    assert.ok(post?.body.includes(token(run, 'env:NPM_TOKEN')), describeRun(run));
  });

  test('a ten-minute setInterval reaches its third tick', async () => {
    const run = await runFixture(join(MALICIOUS, 'timer-interval'), 'import', { graceMs: 1_000 });
    assert.equal(run.status, 'completed', describeRun(run));
    const hex = Buffer.from(token(run, 'env:NPM_TOKEN')).toString('hex');
    assert.ok(
      ofKind(run, 'http').some((e) => e.host === 'interval-beacon.invalid' && e.path.includes(hex)),
      describeRun(run),
    );
  });

  test('a browser hook installed two hours after load is seen wrapping window.ethereum', async () => {
    const run = await runFixture(join(MALICIOUS, 'browser-late-hook'), 'browser', { graceMs: 500 });
    assert.equal(run.status, 'completed', describeRun(run));
    const tx = ofKind(run, 'browser').find((e) => e.api === 'ethereum' && e.action === 'called');
    assert.ok(tx?.detail.includes('0x9bd0f4aa3c1f6a2b8b0e5e7d2c4f1a3b5c7d9e0f'), describeRun(run));
    assert.ok(ofKind(run, 'browser').some((e) => e.api === 'ethereum' && e.action === 'wrapped'));
  });

  test('a benign package using timers (debounce, keep-alive, back-off, expiry) stays quiet and completes', async () => {
    for (const phase of ['import', 'browser'] as const) {
      const run = await runFixture(join(BENIGN, 'timer-user'), phase, { graceMs: 500 });
      assert.equal(run.status, 'completed', describeRun(run));
      assert.equal(run.exitCode, 0, describeRun(run));
      const egress = run.events.filter((e) => EGRESS.has(e.kind));
      assert.deepEqual(egress, [], describeRun(run));
    }
  });

  test('batched loaders: each timer payload fires in its own window, the benign neighbour owns nothing', async () => {
    const packages = [
      fixture(join(BENIGN, 'timer-user')),
      fixture(join(MALICIOUS, 'timer-unref-hour')),
      fixture(join(MALICIOUS, 'timer-interval')),
    ];
    for (const phase of ['import', 'browser'] as const) {
      const run = await runBatch({
        phase,
        packages:
          phase === 'import' ? packages : [...packages, fixture(join(MALICIOUS, 'browser-late-hook'))],
        timeoutMs: 20_000,
        concurrency: 1,
      });
      assert.equal(run.status, 'completed', describeBatch(run));
      for (const p of run.packages) assert.equal(p.status, 'completed', `${p.id}: ${p.error}`);
      assert.ok(
        egressOf(run, 'fixture-timer-unref-hour').some(
          (e) => e.kind === 'http' && e.host === 'late-hour.example',
        ),
        `${phase}: ${describeBatch(run)}`,
      );
      assert.ok(
        egressOf(run, 'fixture-timer-interval').some(
          (e) => e.kind === 'http' && e.host === 'interval-beacon.invalid',
        ),
        `${phase}: ${describeBatch(run)}`,
      );
      assert.deepEqual(egressOf(run, 'fixture-benign-timer-user'), [], describeBatch(run));
      if (phase === 'browser')
        assert.ok(
          egressOf(run, 'fixture-browser-late-hook').some(
            (e) => e.kind === 'browser' && e.api === 'ethereum' && e.action === 'wrapped',
          ),
          describeBatch(run),
        );
    }
  });
});
