import { defaultPolicy } from '../rules/policy-file.js';
import { strict as assert } from 'node:assert';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { LocalArtifactStore } from '../artifacts/artifact-store.js';
import { ScanEventHub } from '../services/scan-event-hub.js';
import { ScanService } from '../services/scan-service.js';
import { createStore } from '../storage/index.js';
import type { Store } from '../storage/store.js';
import { namePatternAnalyzer } from '../test-support/analyzers.js';
import { FakeUpstream } from '../test-support/fake-upstream.js';
import { makeGraph } from '../test-support/graph.js';
import { RegistryClient } from '../upstream/registry-client.js';
import { runJob } from './job-runner.js';
import { isFailedAnalysis } from '../services/scan-planner.js';
import { JobDispatcher } from './job-dispatcher.js';

describe('job runner and dispatcher', () => {
  let dataDir: string;
  let store: Store;
  let upstream: FakeUpstream;
  let registry: RegistryClient;
  let scans: ScanService;

  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'sr-jobs-'));
    store = await createStore({ dataDir });
    upstream = await new FakeUpstream().start();
    registry = new RegistryClient({ baseUrl: upstream.url });
    scans = new ScanService({ store, registry, hub: new ScanEventHub() });
  });
  after(async () => {
    await registry.close();
    await store.close();
    await upstream.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  test('a job that keeps dying with its worker is held for review after maxClaims, without analysis', async () => {
    const built = await upstream.add({ name: 'killer', version: '1.0.0' });
    const summary = await scans.createScan({
      graph: makeGraph([{ name: 'killer', version: '1.0.0', integrity: built.integrity }]),
    });
    const analyzer = namePatternAnalyzer();
    let job = await store.claimJob('w0', 1);
    for (let i = 1; i <= 3; i++) {
      await new Promise((resolve) => setTimeout(resolve, 5));
      job = await store.claimJob(`w${i}`, 1); // the lease expired: another worker reclaims it, attempts grows
    }
    assert.equal(job?.attempts, 4);
    await runJob(
      job!,
      {
        store,
        scans,
        retry: { attempts: 2, baseDelayMs: 1, maxClaims: 3 },
        pipeline: { registry, artifacts: new LocalArtifactStore(dataDir), analyzer, policy: defaultPolicy() },
      },
      new AbortController().signal,
    );
    assert.equal(analyzer.calls.size, 0);
    const result = await scans.getScanResult(summary.id);
    assert.equal(result?.status, 'completed');
    assert.equal(result?.packages[0]?.state, 'review');
    assert.match(result?.packages[0]?.reason ?? '', /interrupted 3 times/);
    assert.equal((await store.getJob(job!.id))?.status, 'failed');
  });

  test('a running job keeps its lease by renewal: a second dispatcher never steals it', async () => {
    const built = await upstream.add({ name: 'slow-analysis', version: '1.0.0' });
    const summary = await scans.createScan({
      graph: makeGraph([{ name: 'slow-analysis', version: '1.0.0', integrity: built.integrity }]),
    });
    const analyzer = namePatternAnalyzer({ delayMs: 900 });
    const deps = {
      store,
      scans,
      retry: { attempts: 1, baseDelayMs: 1, maxClaims: 3 },
      pipeline: { registry, artifacts: new LocalArtifactStore(dataDir), analyzer, policy: defaultPolicy() },
    };
    const pools = [0, 1].map(
      () =>
        new JobDispatcher({
          store,
          capacity: 1,
          leaseMs: 240,
          idlePollMs: 20,
          handle: (job, signal) => runJob(job, deps, signal),
        }),
    );
    for (const pool of pools) await pool.start();
    try {
      for (let i = 0; (await scans.getScanResult(summary.id))?.status === 'running'; i++) {
        assert.ok(i < 200, 'scan completes');
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    } finally {
      await Promise.all(pools.map((pool) => pool.close()));
    }
    assert.equal(analyzer.calls.get('slow-analysis@1.0.0'), 1, 'analysed once although it outlived 3 leases');
    assert.equal((await scans.getScanResult(summary.id))?.packages[0]?.state, 'approved');
  });

  test('13.9: ENOSPC in a stage (a sandbox temp dir) holds after one attempt as not analysed; a full store throws', async () => {
    const built = await upstream.add({ name: 'no-space', version: '1.0.0' });
    const summary = await scans.createScan({
      graph: makeGraph([{ name: 'no-space', version: '1.0.0', integrity: built.integrity }]),
    });
    const full = Object.assign(new Error("ENOSPC: no space left on device, mkdtemp '/tmp/sr-host-x'"), {
      code: 'ENOSPC',
    });
    let calls = 0;
    const analyzer = {
      analyze: () => {
        calls++;
        return Promise.reject(full);
      },
    };
    const seen: unknown[] = [];
    const deps = {
      store,
      scans,
      retry: { attempts: 3, baseDelayMs: 1, maxClaims: 3 },
      pipeline: { registry, artifacts: new LocalArtifactStore(dataDir), analyzer, policy: defaultPolicy() },
      onDiskFull: (error: unknown) => seen.push(error),
    };
    const job = await store.claimJob('w-full', 60_000);
    await runJob(job!, deps, new AbortController().signal);
    assert.equal(calls, 1, 'not retried at once');
    assert.deepEqual(seen, [full]);
    const result = await scans.getScanResult(summary.id);
    assert.equal(result?.packages[0]?.state, 'review');
    assert.match(result?.packages[0]?.reason ?? '', /^could not analyse: the disk is full/);
    assert.deepEqual(
      result?.packages[0]?.findings.map((finding) => finding.rule),
      ['storage-full'],
      'an infrastructure failure (the CLI exits 4), not a failed analysis of the package',
    );
    const stored = await store.getArtifact({
      name: 'no-space',
      version: '1.0.0',
      integrity: built.integrity,
    });
    assert.ok(stored && isFailedAnalysis(stored), 'not a decision: analysed again by the next scan');

    // The database cannot record even that: the runner throws a DiskFullError for the dispatcher.
    const again = await upstream.add({ name: 'no-space-db', version: '1.0.0' });
    await scans.createScan({
      graph: makeGraph([{ name: 'no-space-db', version: '1.0.0', integrity: again.integrity }]),
    });
    const fullStore = Object.create(store) as Store;
    fullStore.upsertArtifact = () =>
      Promise.reject(Object.assign(new Error('database or disk is full'), { errcode: 13 }));
    const second = await store.claimJob('w-full', 60_000);
    await assert.rejects(
      runJob(second!, { ...deps, store: fullStore }, new AbortController().signal),
      (error: Error) =>
        error.name === 'DiskFullError' && /no-space-db@1\.0\.0: disk full/.test(error.message),
    );
    assert.equal(seen.length, 3);
  });
});
