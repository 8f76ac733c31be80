// Hostile suite, kill -9 (issue 13 items 7 and 10): the built server is SIGKILLed mid-scan (SQLite
// and PostgreSQL) and mid-sandbox-run; restarted on the same data, it finishes the scan with every
// package decided once (nothing lost, nothing duplicated) and leaves no tmpfs mount or host run
// directory of the killed process behind (the sandbox's sweep: packages/analyzer/src/sandbox/run-state.ts).
import { strict as assert } from 'node:assert';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import { eventually } from '../support/eventually.js';
import { startFixtureRegistry } from '../support/fixture-registry.js';
import type { FixturePackage, FixtureRegistry } from '../support/fixture-registry.js';
import { HostileTally } from '../support/hostile-tally.js';
import { graphOf, postScan, waitForScan } from '../support/scan-api.js';
import type { ScanJson } from '../support/scan-api.js';
import { serverDatabase } from '../support/server-db.js';
import type { ServerDatabase } from '../support/server-db.js';
import { startServerProcess } from '../support/server-process.js';
import type { ServerProcess } from '../support/server-process.js';

const LEASE_MS = 2_000;
const DECIDED = new Set(['approved', 'rejected', 'review', 'blocked']);
/** Where the sandbox keeps each run's host state (packages/analyzer/src/sandbox/run-state.ts). */
const RUN_STATE_ROOT = '/tmp';

const tally = new HostileTally('kill');
after(() => tally.print());

async function stopGracefully(server: ServerProcess): Promise<void> {
  server.child.kill('SIGTERM');
  await server.exited;
}

async function killHard(server: ServerProcess): Promise<void> {
  server.child.kill('SIGKILL');
  assert.equal((await server.exited).signal, 'SIGKILL');
}

/** Every package decided exactly once: one artifact row and one job per package, nothing queued or running. */
function assertNothingLostOrDuplicated(database: ServerDatabase, scan: ScanJson, names: string[]): void {
  assert.equal(scan.status, 'completed', JSON.stringify(scan));
  assert.deepEqual(scan.packages.map((pkg) => pkg.name).sort(), [...names].sort());
  for (const pkg of scan.packages) assert.ok(DECIDED.has(pkg.state), `${pkg.name} is ${pkg.state}`);
  const artifacts = database.query('SELECT name, count(*) AS n FROM artifacts GROUP BY name');
  assert.deepEqual(artifacts.map((row) => row.name).sort(), [...names].sort(), JSON.stringify(artifacts));
  assert.ok(
    artifacts.every((row) => Number(row.n) === 1),
    JSON.stringify(artifacts),
  );
  const jobs = database.query('SELECT name, status FROM jobs');
  assert.equal(jobs.length, names.length, `one job per package: ${JSON.stringify(jobs)}`);
  assert.ok(
    jobs.every((job) => job.status === 'done' || job.status === 'failed'),
    JSON.stringify(jobs),
  );
  const packages = database.query('SELECT count(*) AS n FROM scan_packages');
  assert.equal(Number(packages[0]?.n), names.length);
}

function fixtures(count: number): FixturePackage[] {
  return Array.from({ length: count }, (_, index) => ({
    manifest: { name: `hostile-kill-${index}`, version: '1.0.0' },
    files: { 'index.js': `module.exports = ${index};\n` },
  }));
}

for (const kind of ['sqlite', 'postgres'] as const) {
  describe(`hostile: kill -9 of the server mid-scan (${kind})`, () => {
    test('restarted, it finishes the scan: every package decided once', async () => {
      const packages = fixtures(6);
      const names = packages.map((pkg) => pkg.manifest.name);
      // Slow answers keep the analyses in flight when the kill comes.
      const registry: FixtureRegistry = await startFixtureRegistry({ packages, latency: 400 });
      const tmp = await mkdtemp(path.join(os.tmpdir(), 'sr-hostile-kill-'));
      const database = serverDatabase(kind, tmp);
      const env = {
        SR_AUTH: 'none',
        SR_DATA_DIR: tmp,
        SR_UPSTREAM_REGISTRY: registry.url,
        SR_JOB_LEASE_MS: String(LEASE_MS),
        SR_CONCURRENCY: '2',
        ...database.env,
      };
      let server: ServerProcess | undefined;
      try {
        server = await startServerProcess(env);
        const graph = graphOf(
          registry,
          names.map((name) => [name, '1.0.0']),
          names.map((name) => ['', name]),
        );
        const created = await postScan(server.url, graph);
        assert.equal(created.status, 201, JSON.stringify(created.body));
        await eventually('a tarball fetched', 30_000, () =>
          registry.tarballRequests().length > 0 ? true : undefined,
        );
        await killHard(server);
        server = undefined;
        const killedAt = database.query(
          "SELECT count(*) AS n FROM jobs WHERE status IN ('queued', 'running')",
        );
        await tally.check(() => assert.ok(Number(killedAt[0]?.n) > 0, 'the kill came mid-scan'));

        server = await startServerProcess(env);
        const scan = await waitForScan(server.url, created.body.id!, 120_000);
        await tally.check(() => assertNothingLostOrDuplicated(database, scan, names));
      } finally {
        if (server) await stopGracefully(server);
        database.dispose();
        await registry.close();
        await rm(tmp, { recursive: true, force: true });
      }
    });
  });
}

interface RunOwner {
  pid: number;
  runRoot: string;
}

/** The sandbox runs' host directories owned by `pid` (their owner.json names it). */
async function runStateOf(pid: number): Promise<{ hostDir: string; runRoot: string }[]> {
  const found: { hostDir: string; runRoot: string }[] = [];
  for (const name of await readdir(RUN_STATE_ROOT)) {
    if (!name.startsWith('sr-host-')) continue;
    const hostDir = path.join(RUN_STATE_ROOT, name);
    const owner = await readFile(path.join(hostDir, 'owner.json'), 'utf8').then(
      (text) => JSON.parse(text) as RunOwner,
      () => undefined,
    );
    if (owner?.pid === pid) found.push({ hostDir, runRoot: owner.runRoot });
  }
  return found;
}

async function mountPoints(): Promise<Set<string>> {
  const text = await readFile('/proc/self/mounts', 'utf8');
  return new Set(text.split('\n').map((line) => line.split(' ')[1] ?? ''));
}

describe('hostile: kill -9 of the server mid-sandbox-run', () => {
  test('restarted, the run is redone and the killed run leaves no tmpfs or host directory', async (t) => {
    const slow: FixturePackage = {
      manifest: {
        name: 'hostile-kill-slow-install',
        version: '1.0.0',
        scripts: { install: 'node install.js' },
      },
      files: {
        'install.js': 'setTimeout(() => {}, 4000);\n',
        'index.js': 'module.exports = 1;\n',
      },
    };
    const registry = await startFixtureRegistry({ packages: [slow] });
    const tmp = await mkdtemp(path.join(os.tmpdir(), 'sr-hostile-kill-sandbox-'));
    const database = serverDatabase('sqlite', tmp);
    const env = {
      SR_AUTH: 'none',
      SR_DATA_DIR: tmp,
      SR_UPSTREAM_REGISTRY: registry.url,
      SR_JOB_LEASE_MS: String(LEASE_MS),
      SR_SANDBOX: 'on',
    };
    let server: ServerProcess | undefined;
    try {
      server = await startServerProcess(env);
      const created = await postScan(
        server.url,
        graphOf(registry, [[slow.manifest.name, '1.0.0']], [['', slow.manifest.name]]),
      );
      assert.equal(created.status, 201, JSON.stringify(created.body));
      const pid = server.child.pid!;
      // The sandbox run has started: its host directory (and tmpfs) exist, owned by the server.
      const running = await eventually('the sandbox run to start', 120_000, async () => {
        const state = await runStateOf(pid);
        if (state.length > 0) return state;
        const scan = (await (
          await fetch(`${server!.url}/api/v1/scans/${created.body.id}`)
        ).json()) as ScanJson;
        if (scan.status !== 'running') return null;
        return undefined;
      });
      if (running === null) {
        t.skip('the scan ended without a sandbox run (is the sandbox available on this machine?)');
        return;
      }
      await killHard(server);
      server = undefined;
      const mountsAfterKill = await mountPoints();
      const leftBehind = running.filter((state) => mountsAfterKill.has(state.runRoot)).length;

      server = await startServerProcess(env);
      const scan = await waitForScan(server.url, created.body.id!, 300_000);
      await tally.check(() => assertNothingLostOrDuplicated(database, scan, [slow.manifest.name]));
      await tally.check(async () => {
        // The restarted server's first sandbox run swept what the killed one left.
        assert.deepEqual(await runStateOf(pid), [], 'host run directories of the killed server remain');
        const mounts = await mountPoints();
        for (const state of running) assert.ok(!mounts.has(state.runRoot), `${state.runRoot} still mounted`);
      });
      t.diagnostic(
        `killed with ${running.length} run(s) in flight, ${leftBehind} tmpfs left mounted until the sweep`,
      );
    } finally {
      if (server) await stopGracefully(server);
      database.dispose();
      await registry.close();
      await rm(tmp, { recursive: true, force: true });
    }
  });
});
