import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { strict as assert } from 'node:assert';
import type { InstallScript, StaticReport } from '@secure-registry/analyzer';
import { baseReport } from '../rules/test-support/report.js';
import { createStore } from '../storage/index.js';
import { runServerCli as run } from '../test-support/server-cli.js';
import type { ArtifactKey } from '../storage/store.js';

const script = (isNew: boolean): InstallScript => ({
  event: 'postinstall',
  command: 'node setup.js',
  implicit: false,
  isNew,
  files: ['setup.js'],
});

function withScript(name: string, isNew: boolean): StaticReport {
  const report = baseReport({ name, installScripts: [script(isNew)] });
  report.metadata.packumentInstallEvents = ['postinstall'];
  return report;
}

const key = (name: string): ArtifactKey => ({ name, version: '1.0.1', integrity: `sha512-${name}` });

describe('secure-registry-server reevaluate (subprocess on a temp DATA_DIR)', () => {
  let dir: string;
  let strictPolicy: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sr-reevaluate-'));
    strictPolicy = join(dir, 'strict.json');
    await writeFile(strictPolicy, JSON.stringify({ thresholds: { rejected: 'high', review: 'medium' } }));
    const store = await createStore({ dataDir: dir });
    try {
      // A new install script in a patch release: `high`, held under the default policy.
      const held = withScript('held', true);
      await store.upsertArtifact(key('held'), {
        verdict: 'review',
        reason: 'new install script',
        reports: { static: held },
      });
      // An old install script: `low`, approved under both policies.
      const plain = withScript('plain', false);
      await store.upsertArtifact(key('plain'), { verdict: 'approved', reports: { static: plain } });
      // Held by the rules, approved by a person: never overridden.
      await store.upsertArtifact(key('person'), {
        verdict: 'approved',
        reason: 'approved by alice',
        reports: { static: withScript('person', true) },
      });
      await store.appendReviewDecision({
        ...key('person'),
        decision: 'approve',
        reviewer: 'alice',
        role: 'reviewer',
        reason: 'known maintainer change',
        evidence: [],
      });
      // Never analysed (analysis failed): nothing to re-evaluate.
      await store.upsertArtifact(key('failed'), {
        verdict: 'review',
        reason: 'analysis failed',
        reports: {},
      });
    } finally {
      await store.close();
    }
  });
  after(() => rm(dir, { recursive: true, force: true }));

  test('a bad policy file is a usage error naming the field', async () => {
    const bad = join(dir, 'bad.json');
    await writeFile(bad, JSON.stringify({ thresholds: { rejected: 'fatal' } }));
    const result = await run(['reevaluate', '--policy', bad], { SR_DATA_DIR: dir });
    assert.equal(result.code, 2);
    assert.match(result.stderr, /thresholds\.rejected/);
    assert.doesNotMatch(result.stderr, /at .*\.js:\d+/, 'no stack trace');
  });

  test('--dry-run reports the change and writes nothing', async () => {
    const result = await run(['reevaluate', '--dry-run', '--json'], {
      SR_DATA_DIR: dir,
      SR_POLICY_FILE: strictPolicy,
    });
    assert.equal(result.code, 0, result.stderr);
    const summary = JSON.parse(result.stdout);
    assert.equal(summary.dryRun, true);
    assert.deepEqual(
      summary.changes.map((c: { package: string; from: string; to: string }) => [c.package, c.from, c.to]),
      [['held@1.0.1', 'review', 'rejected']],
    );
    const store = await createStore({ dataDir: dir });
    try {
      assert.equal((await store.getArtifact(key('held')))?.verdict, 'review');
    } finally {
      await store.close();
    }
  });

  test("re-decides under the new policy from stored reports, keeps people's decisions, stamps versions", async () => {
    const result = await run(['reevaluate', '--policy', strictPolicy], { SR_DATA_DIR: dir });
    assert.equal(result.code, 0, result.stderr);
    assert.match(
      result.stdout,
      /examined 4: re-evaluated 2, up to date 0, decided by a person 1, nothing to re-evaluate 1/,
    );
    assert.match(result.stdout, /held@1\.0\.1: review -> rejected/);
    const store = await createStore({ dataDir: dir });
    try {
      const held = await store.getArtifact(key('held'));
      assert.equal(held?.verdict, 'rejected');
      assert.ok(held?.findings.some((f) => f.rule === 'install-script-new' && f.severity === 'high'));
      const stamp = held?.reports.decision as {
        policyVersion: string;
        ruleSetVersion: string;
        policySource: string;
      };
      assert.equal(stamp.policySource, strictPolicy);
      assert.equal(stamp.ruleSetVersion, held?.ruleSetVersion);
      assert.equal((await store.getArtifact(key('plain')))?.verdict, 'approved');
      assert.equal((await store.getArtifact(key('person')))?.verdict, 'approved');
      assert.equal((await store.getArtifact(key('failed')))?.verdict, 'review');
    } finally {
      await store.close();
    }
    // Same rules and policy again: everything evaluated is up to date.
    const again = await run(['reevaluate', '--policy', strictPolicy, '--json'], { SR_DATA_DIR: dir });
    const summary = JSON.parse(again.stdout);
    assert.equal(summary.upToDate, 2);
    assert.equal(summary.reevaluated, 0);
    assert.deepEqual(summary.changes, []);
    // Back to the default policy: the held package is held again.
    const back = await run(['reevaluate'], { SR_DATA_DIR: dir });
    assert.match(back.stdout, /held@1\.0\.1: rejected -> review/);
  });
});
