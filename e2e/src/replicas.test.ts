// Several `secure-registry-server` processes on one PostgreSQL schema share the work (issue 9):
// jobs claimed by either, each artifact analysed once, SSE progress on either, and a replica killed
// with SIGKILL mid-scan loses nothing. Sandbox off: this is about distributing the work.
import { strict as assert } from 'node:assert';
import { mkdtemp, rm } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { loadScaledTimeout } from '@secure-registry/shared';
import { startFixtureRegistry } from './support/fixture-registry.js';
import type { FixtureRegistry, FixtureRegistryOptions } from './support/fixture-registry.js';
import { analysesPerArtifact, freshSchema } from './support/postgres.js';
import type { AnalysisCount, TestSchema } from './support/postgres.js';
import { startServerProcess } from './support/server-process.js';
import type { ServerProcess } from './support/server-process.js';
import { readSse } from './support/sse.js';

const DECIDED = new Set(['approved', 'rejected', 'review', 'blocked', 'unvettable']);

interface JobRow {
  id: string;
  name: string;
  status: string;
  attempts: number;
  worker_id: string | null;
}

interface ScanBody {
  status: string;
  packages: { name: string; version: string; state: string }[];
}

/** `count` small benign packages, each a direct dependency of the project. */
function replicaPackages(prefix: string, count: number): FixtureRegistryOptions['packages'] {
  return Array.from({ length: count }, (_, i) => ({
    manifest: { name: `${prefix}-${i}`, version: '1.0.0', main: 'index.js' },
    files: { 'index.js': `module.exports = (x) => x + ${i};\n` },
  }));
}

function flatGraph(registry: FixtureRegistry): unknown {
  const nodes = registry.packages().map((pkg) => ({
    key: `node_modules/${pkg.name}`,
    name: pkg.name,
    version: pkg.version,
    resolved: `${registry.url}/${pkg.name}/-/${pkg.name}-${pkg.version}.tgz`,
    integrity: pkg.integrity,
    source: 'registry',
  }));
  return {
    root: { name: 'e2e-replicas', version: '1.0.0' },
    lockfileVersion: 3,
    nodes,
    edges: nodes.map((node) => ({ from: '', to: node.key, type: 'prod' })),
  };
}

async function submitScan(server: ServerProcess, graph: unknown): Promise<string> {
  const res = await fetch(`${server.url}/api/v1/scans`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ graph, label: 'replicas' }),
  });
  const body = (await res.json()) as { id?: string };
  assert.equal(res.status, 201, JSON.stringify(body));
  return body.id!;
}

/** Waits until `probe` returns a value (not undefined); the budget is idle-machine time, scaled by the load. */
async function until<T>(what: string, probe: () => Promise<T | undefined>, budgetMs = 60_000): Promise<T> {
  let expired = false;
  const cancel = loadScaledTimeout(budgetMs, () => (expired = true));
  try {
    for (;;) {
      const value = await probe();
      if (value !== undefined) return value;
      assert.ok(!expired, `timed out waiting for ${what}`);
      await delay(100);
    }
  } finally {
    cancel();
  }
}

async function completedScan(server: ServerProcess, id: string): Promise<ScanBody> {
  return until(`scan ${id} to complete`, async () => {
    const scan = (await (await fetch(`${server.url}/api/v1/scans/${id}`)).json()) as ScanBody;
    return scan.status === 'running' ? undefined : scan;
  });
}

/** Which replica holds a job: the dispatcher's worker id is `<host>-<pid>-<random>`. */
const heldBy = (server: ServerProcess) => (job: JobRow) =>
  job.worker_id?.includes(`-${server.child.pid}-`) ?? false;

function assertAnalysedOnce(counts: Map<string, AnalysisCount>, names: string[]): void {
  const keys = names.map((name) => `${name}@1.0.0`);
  assert.deepEqual([...counts.keys()].sort(), keys.sort(), 'every artifact was analysed');
  for (const [name, count] of counts)
    assert.deepEqual(count, { analyses: 1, done: 1 }, `${name} analysed once, its job completed once`);
}

async function stop(server: ServerProcess): Promise<void> {
  if (server.child.exitCode === null && server.child.signalCode === null) server.child.kill('SIGTERM');
  await server.exited;
}

describe('replicas: several server processes on one PostgreSQL schema', () => {
  let tmp: string;
  const cleanups: (() => Promise<void>)[] = [];
  before(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'sr-e2e-replicas-'));
  });
  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
    await rm(tmp, { recursive: true, force: true });
  });

  /** A replica on `schema`, with its own data directory (replicas share only the database). */
  async function replica(
    label: string,
    schema: TestSchema,
    registry: FixtureRegistry,
    leaseMs: number,
  ): Promise<ServerProcess> {
    const server = await startServerProcess({
      SR_AUTH: 'none',
      SR_DATA_DIR: path.join(tmp, `${schema.name}-${label}`),
      SR_DATABASE_URL: schema.url,
      SR_DATABASE_SCHEMA: schema.name,
      SR_UPSTREAM_REGISTRY: registry.url,
      SR_CONCURRENCY: '2',
      SR_JOB_LEASE_MS: String(leaseMs),
    });
    cleanups.push(() => stop(server));
    return server;
  }

  async function setUp(
    prefix: string,
    count: number,
    options: Omit<FixtureRegistryOptions, 'packages'> = {},
  ) {
    const registry = await startFixtureRegistry({ packages: replicaPackages(prefix, count), ...options });
    cleanups.push(() => registry.close());
    const schema = freshSchema('e2e_replicas');
    cleanups.push(() => schema.drop());
    return { registry, schema, names: registry.packages().map((p) => p.name) };
  }

  test('a scan submitted to A is worked on by A and B, each artifact once, and B streams its progress', async () => {
    // Upstream latency keeps each job busy long enough that A (2 at a time) cannot take them all.
    const { registry, schema, names } = await setUp('replica-share', 16, { latency: 100 });
    const a = await replica('a', schema, registry, 30_000);
    const b = await replica('b', schema, registry, 30_000);
    const id = await submitScan(a, flatGraph(registry));
    const frames = await readSse(`${b.url}/api/v1/scans/${id}/events`, {
      stop: (frame) => frame.event === 'scan.completed',
      timeoutMs: 120_000,
    });
    assert.equal(frames[0]?.event, 'scan.snapshot');
    assert.equal(frames.at(-1)?.event, 'scan.completed', frames.map((f) => f.event).join(','));
    const streamed = new Map<string, string>();
    for (const frame of frames.filter((f) => f.event === 'package.state')) {
      const event = JSON.parse(frame.data) as { name: string; state: string };
      streamed.set(event.name, event.state);
    }
    for (const name of names)
      assert.ok(DECIDED.has(streamed.get(name) ?? ''), `B streamed ${name}: ${streamed.get(name)}`);

    const scan = await completedScan(a, id);
    assert.equal(scan.status, 'completed');
    for (const pkg of scan.packages) assert.ok(DECIDED.has(pkg.state), `${pkg.name} is ${pkg.state}`);
    const jobs = await schema.rows<JobRow>('SELECT id, name, status, attempts, worker_id FROM jobs');
    assert.equal(jobs.length, names.length, 'one job per artifact');
    const byA = jobs.filter(heldBy(a));
    const byB = jobs.filter(heldBy(b));
    assert.equal(byA.length + byB.length, jobs.length, JSON.stringify(jobs.map((j) => j.worker_id)));
    assert.ok(byA.length > 0 && byB.length > 0, `work done by both: A ${byA.length}, B ${byB.length}`);
    assert.ok(
      jobs.every((job) => job.status === 'done' && job.attempts === 1),
      JSON.stringify(jobs),
    );
    assertAnalysedOnce(await analysesPerArtifact(schema), names);
  });

  test('kill -9 of A while it holds leased jobs loses nothing: B finishes them after the lease', async () => {
    const { registry, schema, names } = await setUp('replica-kill', 6);
    // A's first two tarball downloads never answer: A holds those two jobs (its whole capacity).
    registry.setFailure({ match: /\.tgz$/, kind: 'hang', times: 2 });
    const leaseMs = 2_000;
    const a = await replica('a', schema, registry, leaseMs);
    const id = await submitScan(a, flatGraph(registry));
    const heldByA = await until('A to hold two jobs with hung downloads', async () => {
      const running = await schema.rows<JobRow>(
        `SELECT id, name, status, attempts, worker_id FROM jobs WHERE status = 'running'`,
      );
      const held = running.filter(heldBy(a));
      return held.length === 2 && registry.tarballRequests().length === 2 ? held : undefined;
    });
    const b = await replica('b', schema, registry, leaseMs);
    // B takes the rest of the queue while A still holds (and renews) its two.
    await until('B to finish a job', async () => {
      const done = await schema.rows<JobRow>(
        `SELECT id, name, status, attempts, worker_id FROM jobs WHERE status = 'done'`,
      );
      return done.some(heldBy(b)) ? true : undefined;
    });
    const stillHeld = await schema.rows<JobRow>(
      `SELECT id, name, status, attempts, worker_id FROM jobs WHERE id IN (${heldByA.map((j) => `'${j.id}'`).join(',')})`,
    );
    assert.ok(
      stillHeld.every((job) => job.status === 'running' && heldBy(a)(job)),
      JSON.stringify(stillHeld),
    );
    a.child.kill('SIGKILL');
    assert.equal((await a.exited).signal, 'SIGKILL');

    const scan = await completedScan(b, id);
    assert.equal(scan.status, 'completed', JSON.stringify(scan));
    for (const pkg of scan.packages) assert.ok(DECIDED.has(pkg.state), `${pkg.name} is ${pkg.state}`);
    const jobs = await schema.rows<JobRow>('SELECT id, name, status, attempts, worker_id FROM jobs');
    assert.equal(jobs.length, names.length, 'one job per artifact, none queued again');
    for (const job of jobs) {
      assert.equal(job.status, 'done', JSON.stringify(job));
      assert.ok(heldBy(b)(job), `${job.name} was finished by B (${job.worker_id})`);
      const wasA = heldByA.some((held) => held.id === job.id);
      assert.equal(job.attempts, wasA ? 2 : 1, `${job.name}: claimed ${wasA ? 'by A, then B' : 'once'}`);
    }
    assertAnalysedOnce(await analysesPerArtifact(schema), names);
  });
});
