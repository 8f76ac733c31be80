/**
 * Scan bookkeeping benchmark: the server's per-scan work (plan, store, state changes, blocked
 * propagation, counts, events, completion) without any analysis, at growing scan sizes, on the
 * real store (SQLite in a temp dir, or PostgreSQL with --database-url).
 *
 * For each size N: a cold scan of N distinct artifacts (every artifact then "analysed" the way the
 * job runner records it: markAnalyzing, upsertArtifact, applyArtifactDecision; one artifact in
 * 1,000 is rejected so blocking runs too), then a warm re-scan of the same graph (every verdict
 * stored). Prints ms per node for each size and the ratio against the smallest size in the same
 * run: linear bookkeeping keeps the ratio near 1.
 *
 * Usage: node bench/dist/scan-bookkeeping.js [--sizes 1000,10000,100000] [--budget-s 600] [--warm-only]
 *        [--database-url postgres://…] [--json]
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { parseCommandLine } from './cli-args.js';
import pg from 'pg';
import { ScanEventHub, ScanService, createStore } from '@secure-registry/server';
import type { Store } from '@secure-registry/server';
import type { DependencyGraph } from '@secure-registry/shared';

const USAGE =
  'scan-bookkeeping.js [--sizes 1000,10000,100000] [--budget-s 1800] [--database-url postgres://…] [--json]';

const WARM_GOAL_MS = 60_000;

type Registry = ConstructorParameters<typeof ScanService>[0]['registry'];

/** A tree of N registry nodes (each depends on up to three others), ten top-level dependencies. */
export function syntheticGraph(size: number, salt: string): DependencyGraph {
  const nodes: DependencyGraph['nodes'] = [];
  const edges: DependencyGraph['edges'] = [];
  for (let i = 0; i < size; i++) {
    const integrity = `sha512-${Buffer.from(`${salt}:${i}`.padEnd(64, '.')).toString('base64')}`;
    nodes.push({
      key: `node_modules/p${i}`,
      name: `p${i}`,
      version: '1.0.0',
      integrity,
      source: 'registry',
      dev: false,
      optional: false,
      peer: false,
      hasInstallScript: false,
    });
    if (i < 10) edges.push({ from: '', to: `node_modules/p${i}`, type: 'prod' });
    else
      edges.push({
        from: `node_modules/p${Math.floor((i - 10) / 3)}`,
        to: `node_modules/p${i}`,
        type: 'prod',
      });
  }
  return { root: { name: 'bench', version: '1.0.0' }, lockfileVersion: 3, nodes, edges };
}

interface SizeResult {
  size: number;
  coldMs: number | undefined;
  coldDone: number;
  warmMs: number | undefined;
}

async function runSize(store: Store, size: number, budgetMs: number, warmOnly: boolean): Promise<SizeResult> {
  const registry = {
    getPackument: () => Promise.reject(new Error('the bench gives every node an integrity')),
  } as unknown as Registry;
  const scans = new ScanService({ store, registry, hub: new ScanEventHub() });
  const graph = syntheticGraph(size, randomBytes(6).toString('hex'));
  if (warmOnly) {
    // Seeds the verdicts directly (not timed): the warm scan is the one measured.
    for (const node of graph.nodes) {
      const key = { name: node.name, version: node.version, integrity: node.integrity! };
      await store.upsertArtifact(key, {
        verdict: 'approved',
        findings: [],
        decidedAt: new Date().toISOString(),
      });
    }
    return { size, coldMs: undefined, coldDone: 0, ...(await warmScan(scans, graph)) };
  }
  const started = performance.now();
  const cold = await scans.createScan({ label: `cold-${size}`, graph });
  let done = 0;
  for (const node of graph.nodes) {
    if (performance.now() - started > budgetMs) break;
    const key = { name: node.name, version: node.version, integrity: node.integrity! };
    await scans.markAnalyzing(key);
    const rejected = done % 1000 === 999;
    const decision = {
      verdict: rejected ? ('rejected' as const) : ('approved' as const),
      reason: rejected ? 'bench: rejected' : undefined,
      findings: [],
    };
    await store.upsertArtifact(key, { ...decision, decidedAt: new Date().toISOString() });
    await scans.applyArtifactDecision(key, decision);
    done++;
  }
  const coldMs = performance.now() - started;
  if (done < size) return { size, coldMs: undefined, coldDone: done, warmMs: undefined };
  const final = await scans.getScanResult(cold.id);
  if (final?.status !== 'completed') throw new Error(`cold scan of ${size} did not complete`);
  return { size, coldMs, coldDone: done, ...(await warmScan(scans, graph)) };
}

async function warmScan(scans: ScanService, graph: DependencyGraph): Promise<{ warmMs: number }> {
  const started = performance.now();
  const warm = await scans.createScan({ label: `warm-${graph.nodes.length}`, graph });
  const warmMs = performance.now() - started;
  if (warm.status !== 'completed' || warm.counts.pending !== 0)
    throw new Error(`warm scan was not settled at once: ${JSON.stringify(warm.counts)}`);
  return { warmMs };
}

async function openStore(
  databaseUrl: string | undefined,
): Promise<{ store: Store; dispose(): Promise<void> }> {
  if (databaseUrl) {
    const schema = `bench_${randomBytes(6).toString('hex')}`;
    const store = await createStore({ dataDir: tmpdir(), databaseUrl, schema });
    return {
      store,
      async dispose() {
        await store.close();
        const client = new pg.Client({ connectionString: databaseUrl });
        await client.connect();
        await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).finally(() => client.end());
      },
    };
  }
  const dir = await mkdtemp(path.join(tmpdir(), 'sr-bench-book-'));
  const store = await createStore({ dataDir: dir });
  return {
    store,
    async dispose() {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

const fmt = (ms: number | undefined): string => (ms === undefined ? '—' : `${(ms / 1000).toFixed(2)} s`);
const perNode = (ms: number | undefined, size: number): number | undefined =>
  ms === undefined ? undefined : ms / size;

async function main(): Promise<void> {
  const { values } = parseCommandLine(USAGE, {
    options: {
      sizes: { type: 'string', default: '1000,10000,100000' },
      'budget-s': { type: 'string', default: '600' },
      'database-url': { type: 'string' },
      json: { type: 'boolean', default: false },
      'warm-only': { type: 'boolean', default: false },
    },
  });
  const sizes = values.sizes.split(',').map((s) => Number(s.trim()));
  const budgetMs = Number(values['budget-s']) * 1000;
  const results: SizeResult[] = [];
  for (const size of sizes) {
    const { store, dispose } = await openStore(values['database-url']);
    try {
      results.push(await runSize(store, size, budgetMs, values['warm-only']));
    } finally {
      await dispose();
    }
    const r = results.at(-1)!;
    const cold = values['warm-only']
      ? 'skipped'
      : r.coldMs === undefined
        ? `> budget (${r.coldDone}/${size} jobs in ${values['budget-s']} s)`
        : fmt(r.coldMs);
    console.log(`${String(size).padStart(7)} nodes: cold ${cold}, warm ${fmt(r.warmMs)}`);
  }
  const base = results[0]!;
  console.log('\nsize      cold ms/node  ratio   warm ms/node  ratio');
  for (const r of results) {
    const cold = perNode(r.coldMs, r.size);
    const warm = perNode(r.warmMs, r.size);
    const coldBase = perNode(base.coldMs, base.size);
    const warmBase = perNode(base.warmMs, base.size);
    console.log(
      `${String(r.size).padEnd(9)} ${(cold?.toFixed(3) ?? '—').padStart(12)}  ${(cold && coldBase ? (cold / coldBase).toFixed(2) : '—').padStart(5)}   ${(warm?.toFixed(3) ?? '—').padStart(12)}  ${(warm && warmBase ? (warm / warmBase).toFixed(2) : '—').padStart(5)}`,
    );
  }
  const largest = results.at(-1)!;
  const goalMet = largest.warmMs !== undefined && largest.warmMs < WARM_GOAL_MS;
  console.log(
    `\nwarm ${largest.size}-node scan: ${fmt(largest.warmMs)} (goal < ${WARM_GOAL_MS / 1000} s): ${goalMet ? 'met' : 'NOT met'}`,
  );
  if (values.json) console.log(JSON.stringify({ results, warmGoalMs: WARM_GOAL_MS, goalMet }));
}

await main();
