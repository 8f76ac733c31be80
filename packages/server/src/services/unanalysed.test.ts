/**
 * Issue 13 item 8: "could not analyse" (the sandbox could not run, an upstream outage) is not a
 * decision. Such artifacts are analysed again when the server starts with the capability back, and
 * `reevaluate` queues them instead of re-deciding them.
 */
import { strict as assert } from 'node:assert';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { reevaluateStore } from '../cli/reevaluate.js';
import { defaultPolicy } from '../rules/policy-file.js';
import { startServer } from '../start-server.js';
import { createStore } from '../storage/index.js';
import { namePatternAnalyzer } from '../test-support/analyzers.js';
import { FakeUpstream } from '../test-support/fake-upstream.js';
import { scanOne } from '../test-support/scan-one.js';
import { analysisFailedDecision } from '../pipeline/run-pipeline.js';
import { isDecided, isFailedAnalysis, listUnanalysed } from './scan-planner.js';

const MISSING = { ok: false as const, missing: ['bwrap'], details: [] };

describe('13.8: could not analyse is not a decision', () => {
  let upstream: FakeUpstream;
  let dataDir: string;
  before(async () => {
    upstream = await new FakeUpstream().start();
    dataDir = await mkdtemp(join(tmpdir(), 'sr-unanalysed-'));
  });
  after(async () => {
    await upstream.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  test('held because the sandbox could not run; analysed again when the server starts with it back', async () => {
    const built = await upstream.add({
      name: 'needs-sandbox',
      version: '1.0.0',
      files: { 'index.js': 'module.exports = 1;\n' },
    });
    const node = { name: 'needs-sandbox', version: '1.0.0', integrity: built.integrity };
    const options = { dataDir, port: 0, auth: 'none' as const, upstream: upstream.url, llm: null };
    // The machine cannot run the sandbox: held for review (fail closed), marked as not analysed.
    const first = await startServer({
      ...options,
      sandbox: { checkSupport: () => Promise.resolve(MISSING) },
    });
    try {
      const result = await scanOne(first, node);
      assert.equal(result.packages[0]?.state, 'review');
      const stored = await first.store.getArtifact(node);
      assert.ok(stored && isFailedAnalysis(stored), 'recorded as not analysed');
      assert.equal(isDecided(stored), false);
    } finally {
      await first.close();
    }
    // The capability is back (here: an analyzer that approves): start-up analyses it again.
    const analyzer = namePatternAnalyzer();
    const second = await startServer({ ...options, analyzer });
    try {
      for (let i = 0; (await second.store.getArtifact(node))?.verdict !== 'approved'; i++) {
        assert.ok(i < 6000, 'analysed again at start-up');
        await delay(20);
      }
      assert.equal(analyzer.calls.get('needs-sandbox@1.0.0'), 1);
      assert.equal((await scanOne(second, node)).packages[0]?.state, 'approved');
    } finally {
      await second.close();
    }
  });

  test('reevaluate queues unanalysed artifacts instead of re-deciding them (--dry-run writes nothing)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sr-unanalysed-re-'));
    const store = await createStore({ dataDir: dir });
    try {
      const key = { name: 'held-no-sandbox', version: '1.0.0', integrity: 'sha512-HNS' };
      await store.upsertArtifact(key, {
        verdict: 'review',
        reason: 'import phase could not run; held for review (fail closed)',
        findings: [{ rule: 'sandbox-failure', severity: 'high', message: 'could not run', evidence: [] }],
        reports: { sandbox: { planned: ['import'], phases: [], unavailable: ['bwrap'] } },
      });
      const options = { policy: defaultPolicy(), all: true };
      const dry = await reevaluateStore(store, { ...options, dryRun: true });
      assert.equal(dry.requeued, 1);
      assert.equal(await store.countJobs('queued'), 0);
      const real = await reevaluateStore(store, { ...options, dryRun: false });
      assert.equal(real.requeued, 1);
      assert.equal(real.reevaluated, 0);
      assert.equal(await store.countJobs('queued'), 1);
      assert.equal((await store.getArtifact(key))?.verdict, 'review', 'held until analysed again');
      // A package whose worker kept dying is not re-run at every start-up (it may be the killer).
      const killer = { name: 'killer', version: '1.0.0', integrity: 'sha512-K' };
      await store.upsertArtifact(killer, {
        ...analysisFailedDecision(new Error('interrupted 5 times'), 5, 'interrupted'),
        storagePath: undefined,
      });
      const atStart = await listUnanalysed(store, { interrupted: false });
      assert.deepEqual(
        atStart.map((artifact) => artifact.name),
        ['held-no-sandbox'],
      );
      assert.equal((await listUnanalysed(store, { interrupted: true })).length, 2);
    } finally {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
