import { strict as assert } from 'node:assert';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { describe, test } from 'node:test';
import { countStates, findBlocked } from '@secure-registry/shared';
import type { DependencyGraph, ScanEvent } from '@secure-registry/shared';
import { SQLITE_FILE_NAME, createStore } from '../storage/index.js';
import type { Store } from '../storage/store.js';
import type { RegistryClient } from '../upstream/registry-client.js';
import { ScanEventHub } from './scan-event-hub.js';
import { ScanService } from './scan-service.js';
import { createAnalysisQueue } from '../scheduler/analysis-queue.js';

/** N registry nodes; node i depends on nodes 3i+1..3i+3 (a tree), node 0 is the root dependency. */
function treeGraph(size: number): DependencyGraph {
  const key = (i: number) => `node_modules/p${i}`;
  const nodes: DependencyGraph['nodes'] = Array.from({ length: size }, (_, i) => ({
    key: key(i),
    name: `p${i}`,
    version: '1.0.0',
    integrity: `sha512-${Buffer.from(`p${i}`.padEnd(64, '.')).toString('base64')}`,
    source: 'registry',
    dev: false,
    optional: false,
    peer: false,
    hasInstallScript: false,
  }));
  const edges: DependencyGraph['edges'] = [{ from: '', to: key(0), type: 'prod' }];
  for (let i = 1; i < size; i++) edges.push({ from: key(Math.floor((i - 1) / 3)), to: key(i), type: 'prod' });
  return { root: { name: 'tree' }, nodes, edges };
}

/** A store that counts the calls that read a whole scan. */
function countingStore(store: Store): { store: Store; wholeScanReads: () => number } {
  let reads = 0;
  const proxy = new Proxy(store, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver) as unknown;
      if (property === 'listScanPackages' || property === 'getScan') {
        return (...args: unknown[]) => {
          reads++;
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      }
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return { store: proxy, wholeScanReads: () => reads };
}

const registry = {
  getPackument: () => Promise.reject(new Error('every node has an integrity')),
} as unknown as RegistryClient;

async function withStore(fn: (store: Store) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'sr-scan-service-'));
  const store = await createStore({ dataDir: dir });
  try {
    await fn(store);
  } finally {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
}

describe('scan service bookkeeping', () => {
  test('a finished job costs the packages it changes, not a read of the whole scan', () =>
    withStore(async (raw) => {
      const { store, wholeScanReads } = countingStore(raw);
      const scans = new ScanService({ store, registry, hub: new ScanEventHub() });
      const graph = treeGraph(600);
      const scan = await scans.createScan({ graph });
      const afterCreate = wholeScanReads();
      // p7 is rejected: its ancestors p2 and p0 are blocked; every other package is approved.
      for (const node of graph.nodes) {
        const key = { name: node.name, version: node.version, integrity: node.integrity! };
        await scans.markAnalyzing(key);
        const verdict = node.name === 'p7' ? ('rejected' as const) : ('approved' as const);
        await store.upsertArtifact(key, { verdict, findings: [] });
        await scans.applyArtifactDecision(key, { verdict, reason: verdict, findings: [] });
      }
      const reads = wholeScanReads() - afterCreate;
      // One graph read for the rejection, two reads at completion: not one per job (1,200 before).
      assert.ok(reads <= 4, `${reads} whole-scan reads for ${graph.nodes.length} jobs`);

      const result = await scans.getScanResult(scan.id);
      assert.equal(result?.status, 'completed');
      const byKey = new Map(result!.packages.map((pkg) => [pkg.key, pkg]));
      assert.equal(byKey.get('node_modules/p7')?.state, 'rejected');
      assert.deepEqual([...findBlocked(graph, new Set(['node_modules/p7'])).keys()].sort(), [
        'node_modules/p0',
        'node_modules/p2',
      ]);
      assert.equal(byKey.get('node_modules/p2')?.state, 'blocked');
      assert.deepEqual(byKey.get('node_modules/p0')?.blockedBy?.path, ['p0@1.0.0', 'p2@1.0.0', 'p7@1.0.0']);
      assert.equal(byKey.get('node_modules/p1')?.state, 'approved');
      assert.deepEqual(result?.counts, countStates(result!.packages));

      // The events carry counts that agree with the packages at every step.
      const events = (await raw.listScanEvents(scan.id, 0)).map((e) => e.event);
      const last = events.at(-1) as Extract<ScanEvent, { type: 'scan.completed' }>;
      assert.equal(last.type, 'scan.completed');
      assert.deepEqual(last.scan.counts, result?.counts);
      const states = events.filter((e) => e.type === 'package.state');
      assert.equal(states.length, 600 * 2 + 2, 'analyzing and decided for each, then p2 and p0 blocked');
    }));

  test('a job that starts the moment it is queued publishes its steps on the new scan', () =>
    withStore(async (store) => {
      // The dispatcher wakes on enqueue: with the sandbox off a small package's fetch can start
      // before createScan returns. Here the queue publishes the first step as it queues.
      const queue = createAnalysisQueue({ store });
      const scans: ScanService = new ScanService({
        store,
        registry,
        hub: new ScanEventHub(),
        queue: {
          async queueAnalysis(artifacts) {
            const jobs = await queue.queueAnalysis(artifacts);
            for (const a of artifacts)
              await scans.publishPhase(a, {
                phase: 'fetch',
                status: 'started',
                at: new Date().toISOString(),
              });
            return jobs;
          },
        },
      });
      const scan = await scans.createScan({ graph: treeGraph(2) });
      const phases = (await store.listScanEvents(scan.id, 0))
        .map((e) => e.event)
        .filter((e) => e.type === 'package.phase');
      assert.deepEqual(phases.map((e) => e.name).sort(), ['p0', 'p1']);
    }));

  test('reconcile does not queue again a job another replica finished while it read', () =>
    withStore(async (store) => {
      const queue = createAnalysisQueue({ store });
      const scans = new ScanService({ store, registry, hub: new ScanEventHub(), queue });
      const graph = treeGraph(2);
      const scan = await scans.createScan({ graph });
      const [job] = await store.claimJobs('replica-a', 1, 60_000);
      assert.ok(job);
      const key = { name: job.name, version: job.version, integrity: job.integrity };
      // The reconciler (replica B) reads the artifact as undecided; replica A then records the
      // decision, applies it and completes the job before B queues.
      let raced = false;
      const racing = new Proxy(store, {
        get(target, property, receiver) {
          const value = Reflect.get(target, property, receiver) as unknown;
          if (property === 'getArtifact')
            return async (...args: Parameters<Store['getArtifact']>) => {
              const seen = await target.getArtifact(...args);
              if (!raced && args[0].name === key.name) {
                raced = true;
                await target.upsertArtifact(key, { verdict: 'approved', findings: [] });
                await scans.applyArtifactDecision(key, { verdict: 'approved', reason: 'ok', findings: [] });
                await target.completeJob(job.id, 'done', undefined, 'replica-a');
              }
              return seen;
            };
          return typeof value === 'function' ? value.bind(target) : value;
        },
      });
      const reconciler = new ScanService({ store: racing, registry, hub: new ScanEventHub(), queue });
      await reconciler.reconcileScan(scan.id, { enqueue: true });
      assert.ok(raced);
      const queued = await store.claimJobs('replica-b', 10, 60_000);
      assert.deepEqual(
        queued.map((j) => j.name).sort(),
        graph.nodes.map((n) => n.name).filter((name) => name !== key.name),
        'only the job still open is queued; the finished one is not queued a second time',
      );
    }));

  test('counts of a scan stored before counts were kept are counted on its next change', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sr-scan-service-'));
    try {
      const store = await createStore({ dataDir: dir });
      const scans = new ScanService({ store, registry, hub: new ScanEventHub() });
      const graph = treeGraph(5);
      const scan = await scans.createScan({ graph });
      // What migration 0003 leaves for older scans: no counts.
      const raw = new DatabaseSync(join(dir, SQLITE_FILE_NAME));
      raw.prepare('update scans set counts = null where id = ?').run(scan.id);
      raw.close();
      const node = graph.nodes[4]!;
      const key = { name: node.name, version: node.version, integrity: node.integrity! };
      await store.upsertArtifact(key, { verdict: 'approved', findings: [] });
      await scans.applyArtifactDecision(key, { verdict: 'approved', reason: undefined, findings: [] });
      const [event] = (await store.listScanEvents(scan.id, 0)).map((e) => e.event);
      assert.equal(event?.type, 'package.state');
      assert.deepEqual(event.type === 'package.state' ? event.counts : undefined, {
        ...countStates([]),
        total: 5,
        pending: 4,
        approved: 1,
      });
      await store.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
