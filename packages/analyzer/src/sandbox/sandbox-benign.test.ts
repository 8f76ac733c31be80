import { strict as assert } from 'node:assert';
import { after, describe, test } from 'node:test';
import { join } from 'node:path';
import type { PhaseRun } from './types.js';
import { BENIGN, describeRun, ofKind, runFixture, timings } from './test-support/fixtures.js';

const SENSITIVE = [
  /\/\.ssh\//,
  /\/\.aws\//,
  /\/\.npmrc$/,
  /\/\.config\/gh\//,
  /\/\.git-credentials$/,
  /\/\.config\/solana\//,
  /\/\.ethereum\//,
  /\/\.electrum\//,
  /\/\.config\/Exodus\//,
  /\/\.env$/,
];

function assertQuiet(run: PhaseRun): void {
  assert.equal(run.status, 'completed', describeRun(run));
  assert.equal(run.exitCode, 0, describeRun(run));
  for (const kind of ['http', 'dns', 'tcp-data', 'tls', 'decoy'] as const)
    assert.deepEqual(ofKind(run, kind), [], `${kind} events: ${describeRun(run)}`);
  assert.deepEqual(
    ofKind(run, 'connect').filter((e) => e.protocol !== 'unix'),
    [],
  );
  const touched = ofKind(run, 'file').filter((e) => SENSITIVE.some((re) => re.test(e.path)));
  assert.deepEqual(touched, [], 'no honeytoken file touched');
  const writes = ofKind(run, 'file').filter(
    (e) => e.op !== 'read' && (e.path.endsWith('rc') || e.path.includes('/.github/')),
  );
  assert.deepEqual(writes, []);
}

describe('sandbox: benign look-alikes produce no malicious evidence', { concurrency: 3 }, () => {
  after(() => {
    for (const t of timings)
      process.stdout.write(`# sandbox timing ${t.fixture} ${t.phase}: ${t.ms} ms (${t.status})\n`);
  });

  test('banner postinstall', async () => {
    assertQuiet(await runFixture(join(BENIGN, 'banner-postinstall'), 'install', { graceMs: 500 }));
  });

  test('platform check running its own bundled binary', async () => {
    const run = await runFixture(join(BENIGN, 'platform-check'), 'install', { graceMs: 500 });
    assertQuiet(run);
    assert.ok(
      ofKind(run, 'process').some((e) => e.path.endsWith('/bin/tool')),
      describeRun(run),
    );
  });

  test('husky-like hook installer writes only .git/hooks', async () => {
    const run = await runFixture(join(BENIGN, 'hook-installer'), 'install', { graceMs: 500 });
    assertQuiet(run);
    const writes = ofKind(run, 'file').filter((e) => e.op === 'write' || e.op === 'create');
    assert.ok(
      writes.some((e) => e.path === `${run.projectDir}/.git/hooks/pre-commit`),
      describeRun(run),
    );
  });

  test('import and browser phases of a benign package', async () => {
    assertQuiet(await runFixture(join(BENIGN, 'platform-check'), 'import', { graceMs: 300 }));
    const browser = await runFixture(join(BENIGN, 'banner-postinstall'), 'browser', { graceMs: 300 });
    assertQuiet(browser);
    assert.deepEqual(ofKind(browser, 'browser'), []);
  });
});
