// Hostile suite, disk full (issue 13 item 9): the built server with its data directory (SQLite and
// artifacts) on a small real tmpfs. The disk is filled, a scan runs: the job fails cleanly (no loop,
// nothing left running after the lease, no partial files, never an approval) and /healthz says 503;
// space is freed: the re-scan approves and nothing stored is corrupted (across a restart too).
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, open, readdir, rm, truncate, utimes, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, before, describe, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { eventually } from '../support/eventually.js';
import { startFixtureRegistry } from '../support/fixture-registry.js';
import type { FixtureRegistry } from '../support/fixture-registry.js';
import { HostileTally } from '../support/hostile-tally.js';
import { graphOf, postScan, waitForScan } from '../support/scan-api.js';
import type { ScanJson } from '../support/scan-api.js';
import { startServerProcess } from '../support/server-process.js';
import type { ServerProcess } from '../support/server-process.js';

const TMPFS_BYTES = 24 * 1024 * 1024;
const LEASE_MS = 3_000;
const MIN_FREE_BYTES = 1024 * 1024;
/** Incompressible, so the tarball needs this much room in the artifact store. */
const BIG_FILE_BYTES = 2 * 1024 * 1024;
/** Freed after filling the disk: enough for SQLite's writes, not for the big tarball. */
const ROOM_FOR_DATABASE = 512 * 1024;

const tally = new HostileTally('disk-full');

/** Mounts a tmpfs of `bytes` at a new directory, or says why it cannot (not root, no CAP_SYS_ADMIN). */
async function mountTmpfs(bytes: number): Promise<{ dir: string } | { skip: string }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'sr-hostile-diskfull-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${bytes}`, 'tmpfs', dir], { stdio: 'pipe' });
    return { dir };
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    const stderr = (error as { stderr?: Buffer }).stderr?.toString().trim();
    return { skip: `cannot mount a tmpfs here (needs root with CAP_SYS_ADMIN): ${stderr || String(error)}` };
  }
}

/** Writes `file` until the file system says ENOSPC; returns the bytes written. */
async function fillDisk(file: string): Promise<number> {
  const handle = await open(file, 'w');
  let written = 0;
  try {
    for (const size of [1024 * 1024, 64 * 1024, 4096, 512]) {
      const chunk = Buffer.alloc(size, 0x5a);
      for (;;) {
        try {
          const { bytesWritten } = await handle.write(chunk);
          written += bytesWritten;
          if (bytesWritten < size) break;
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
          break;
        }
      }
    }
  } finally {
    await handle.close().catch(() => undefined);
  }
  return written;
}

async function health(url: string): Promise<{ status: number; body: { ok?: boolean; reason?: string } }> {
  const res = await fetch(`${url}/healthz`);
  return { status: res.status, body: (await res.json()) as { ok?: boolean; reason?: string } };
}

/** Polls `probe` until it returns a value (not undefined) within a load-scaled budget. */
async function temporaryFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true }).catch(() => [] as string[]);
  return entries.filter((entry) => entry.endsWith('.tmp'));
}

function jobsIn(
  databaseFile: string,
): { status: string; locked_until: string | null; error: string | null }[] {
  const db = new DatabaseSync(databaseFile, { readOnly: true });
  try {
    return db.prepare('SELECT status, locked_until, error FROM jobs').all() as {
      status: string;
      locked_until: string | null;
      error: string | null;
    }[];
  } finally {
    db.close();
  }
}

function stateOf(scan: ScanJson, name: string): string | undefined {
  return scan.packages.find((pkg) => pkg.name === name)?.state;
}

describe('hostile: disk full (data directory on a small tmpfs)', () => {
  let mounted: { dir: string } | { skip: string };
  let registry: FixtureRegistry;
  let dataDir: string;
  let filler: string;
  let server: ServerProcess | undefined;

  const start = async (): Promise<ServerProcess> =>
    startServerProcess({
      SR_AUTH: 'none',
      SR_DATA_DIR: dataDir,
      SR_UPSTREAM_REGISTRY: registry.url,
      SR_JOB_LEASE_MS: String(LEASE_MS),
      SR_MIN_FREE_BYTES: String(MIN_FREE_BYTES),
    });
  const stop = async (): Promise<void> => {
    if (!server) return;
    server.child.kill('SIGTERM');
    await server.exited;
    server = undefined;
  };
  const scan = async (url: string, name: string): Promise<ScanJson> => {
    const created = await postScan(url, graphOf(registry, [[name, '1.0.0']], [['', name]]));
    assert.equal(created.status, 201, JSON.stringify(created.body));
    return waitForScan(url, created.body.id!, 120_000);
  };

  before(async () => {
    mounted = await mountTmpfs(TMPFS_BYTES);
    if ('skip' in mounted) return;
    dataDir = path.join(mounted.dir, 'data');
    filler = path.join(mounted.dir, 'filler');
    await mkdir(dataDir);
    registry = await startFixtureRegistry({
      packages: [
        {
          manifest: { name: 'hostile-df-small', version: '1.0.0' },
          files: { 'index.js': 'module.exports = 1;\n' },
        },
        {
          manifest: { name: 'hostile-df-big', version: '1.0.0' },
          files: { 'index.js': 'module.exports = 2;\n', 'blob.bin': randomBytes(BIG_FILE_BYTES) },
        },
      ],
    });
  });
  after(async () => {
    await stop();
    if ('skip' in mounted) return;
    await registry.close();
    execFileSync('umount', [mounted.dir]);
    await rm(mounted.dir, { recursive: true, force: true });
    tally.print();
  });

  test('a full disk fails the job cleanly and shows in /healthz; freed, the re-scan approves', async (t) => {
    if ('skip' in mounted) {
      t.skip(mounted.skip);
      return;
    }
    server = await start();
    const { url } = server;
    const baseline = await scan(url, 'hostile-df-small');
    assert.equal(stateOf(baseline, 'hostile-df-small'), 'approved', JSON.stringify(baseline));
    await tally.check(async () => assert.equal((await health(url)).status, 200));

    // Full to the last byte: nothing can be stored, the API says so (503, not a 500) and /healthz too.
    const filled = await fillDisk(filler);
    assert.ok(filled > 0);
    await tally.check(async () => {
      const answer = await health(url);
      assert.equal(answer.status, 503, JSON.stringify(answer.body));
      assert.equal(answer.body.ok, false);
      assert.match(answer.body.reason ?? '', /no space in the data directory/);
    });
    await tally.check(async () => {
      const created = await postScan(
        url,
        graphOf(registry, [['hostile-df-big', '1.0.0']], [['', 'hostile-df-big']]),
      );
      assert.equal(created.status, 503, JSON.stringify(created.body));
      assert.equal((created.body as { code?: string }).code, 'ERR_SR_DISK_FULL');
    });

    // Room for the database, not for the tarball: the artifact store's write fails with ENOSPC.
    await truncate(filler, filled - ROOM_FOR_DATABASE);
    const failed = await scan(url, 'hostile-df-big');
    await tally.check(() => {
      // The scan ends (nothing waits forever) and the package is held as not analysed, never approved.
      assert.notEqual(failed.status, 'running', JSON.stringify(failed));
      assert.equal(stateOf(failed, 'hostile-df-big'), 'review', JSON.stringify(failed));
      // An infrastructure failure (the CLI exits 4 for it), not the package's doing.
      const pkg = failed.packages.find((candidate) => candidate.name === 'hostile-df-big');
      assert.equal(pkg?.failure?.cause, 'storage-full', JSON.stringify(pkg));
    });
    const databaseFile = path.join(dataDir, 'secure-registry.db');
    await tally.check(async () => {
      // After the lease, no job is left running, and the failed one says why.
      await delay(LEASE_MS * 2);
      const jobs = jobsIn(databaseFile);
      assert.deepEqual(
        jobs.filter((job) => job.status === 'running'),
        [],
        JSON.stringify(jobs),
      );
      assert.ok(
        jobs.some((job) => job.status === 'failed' && /disk is full|ENOSPC|disk full/i.test(job.error ?? '')),
        JSON.stringify(jobs),
      );
    });
    await tally.check(async () =>
      assert.deepEqual(await temporaryFiles(path.join(dataDir, 'artifacts')), []),
    );
    await tally.check(() => {
      const log = server!.stderr();
      assert.doesNotMatch(log, /cannot rollback/);
      const workerErrors = log.split('\n').filter((line) => line.includes('worker error')).length;
      assert.ok(workerErrors < 10, `the workers loop: ${workerErrors} worker errors\n${log.slice(-4000)}`);
    });

    await rm(filler);
    await tally.check(async () => {
      await eventually('/healthz ok after freeing space', 10_000, async () =>
        (await health(url)).status === 200 ? true : undefined,
      );
    });
    const rescanned = await scan(url, 'hostile-df-big');
    await tally.check(() =>
      assert.equal(stateOf(rescanned, 'hostile-df-big'), 'approved', JSON.stringify(rescanned)),
    );

    // A partial write a killed process left behind is removed at start-up; the database is intact.
    await stop();
    const stale = path.join(dataDir, 'artifacts', 'sha512', '00', `${'0'.repeat(128)}.tgz.4242.abcdef.tmp`);
    await mkdir(path.dirname(stale), { recursive: true });
    await writeFile(stale, 'partial');
    const hourAgo = new Date(Date.now() - 3_600_000);
    await utimes(stale, hourAgo, hourAgo);
    await tally.check(() => {
      const db = new DatabaseSync(databaseFile, { readOnly: true });
      try {
        const rows = db.prepare('PRAGMA integrity_check').all();
        assert.deepEqual(
          rows.map((row) => row.integrity_check),
          ['ok'],
        );
      } finally {
        db.close();
      }
    });
    server = await start();
    await tally.check(async () =>
      assert.deepEqual(await temporaryFiles(path.join(dataDir, 'artifacts')), []),
    );
    for (const name of ['hostile-df-small', 'hostile-df-big']) {
      await tally.check(async () => {
        const res = await fetch(`${server!.url}/${name}/-/${name}-1.0.0.tgz`);
        assert.equal(res.status, 200, `${name}: ${res.status}`);
        const bytes = Buffer.from(await res.arrayBuffer());
        const integrity = `sha512-${createHash('sha512').update(bytes).digest('base64')}`;
        assert.equal(integrity, registry.find(name, '1.0.0')!.integrity);
      });
    }
  });
});
