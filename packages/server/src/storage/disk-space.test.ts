import { strict as assert } from 'node:assert';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { test } from 'node:test';
import { Kysely, sql } from 'kysely';
import { DiskSpaceMonitor, isDiskFull } from './disk-space.js';
import { NodeSqliteDialect } from './node-sqlite-dialect.js';

const enospc = (): Error =>
  Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });

test('isDiskFull knows ENOSPC, EDQUOT, SQLITE_FULL, PostgreSQL 53100, through causes; nothing else', () => {
  assert.equal(isDiskFull(enospc()), true);
  assert.equal(isDiskFull(Object.assign(new Error('quota'), { code: 'EDQUOT' })), true);
  assert.equal(isDiskFull(Object.assign(new Error('database or disk is full'), { errcode: 13 })), true);
  assert.equal(
    isDiskFull(Object.assign(new Error('full'), { errcode: 13 | (1 << 8) })),
    true,
    'extended code',
  );
  assert.equal(isDiskFull(Object.assign(new Error('could not extend file'), { code: '53100' })), true);
  assert.equal(isDiskFull(new Error('wrapped', { cause: enospc() })), true);
  assert.equal(isDiskFull(Object.assign(new Error('busy'), { errcode: 5 })), false);
  assert.equal(isDiskFull(new Error('no space left on device')), false, 'words are not a code');
  assert.equal(isDiskFull(undefined), false);
});

// 13.9: SQLite rolls a transaction back itself on SQLITE_FULL; the driver's own rollback then
// failed with "cannot rollback - no transaction is active" and hid the disk-full error.
test('a transaction that fills the database rejects with SQLITE_FULL, not "cannot rollback"', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sr-disk-full-'));
  const database = new DatabaseSync(join(dir, 'full.db'));
  const db = new Kysely<{ t: { body: string } }>({ dialect: new NodeSqliteDialect(database) });
  try {
    await sql`CREATE TABLE t (body TEXT)`.execute(db);
    const { rows } = await sql<{ page_count: number }>`PRAGMA page_count`.execute(db);
    // The file may not grow: a full disk, as SQLite sees one.
    await sql.raw(`PRAGMA max_page_count = ${rows[0]!.page_count + 1}`).execute(db);
    const error = await db
      .transaction()
      .execute(async (trx) => {
        for (let index = 0; index < 50; index++) {
          await trx
            .insertInto('t')
            .values({ body: 'x'.repeat(4000) })
            .execute();
        }
      })
      .then(
        () => undefined,
        (caught: unknown) => caught,
      );
    assert.ok(error instanceof Error, 'the transaction failed');
    assert.doesNotMatch(error.message, /cannot rollback/);
    assert.equal(isDiskFull(error), true, String(error));
    assert.equal(database.isTransaction, false);
    // The connection is still usable: the next transaction works.
    await db.transaction().execute(async (trx) => trx.deleteFrom('t').execute());
  } finally {
    await db.destroy();
    await rm(dir, { recursive: true, force: true });
  }
});

test('the monitor: unhealthy below the free-space threshold, and after a disk-full error until space is freed', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sr-disk-space-'));
  try {
    assert.equal((await new DiskSpaceMonitor({ dir, minFreeBytes: 0 }).status()).ok, true);
    const tooLittle = await new DiskSpaceMonitor({ dir, minFreeBytes: Number.MAX_SAFE_INTEGER }).status();
    assert.equal(tooLittle.ok, false);
    assert.match(!tooLittle.ok ? tooLittle.reason : '', /no space in the data directory .* bytes free/);

    let now = 1_000_000;
    const monitor = new DiskSpaceMonitor({ dir, minFreeBytes: 0, recentMs: 60_000, now: () => now });
    assert.equal(monitor.noteError(new Error('other')), false);
    assert.equal((await monitor.status()).ok, true);
    assert.equal(monitor.noteError(enospc()), true);
    const seen = await monitor.status();
    assert.equal(seen.ok, false);
    assert.match(!seen.ok ? seen.reason : '', /disk full 0 s ago: ENOSPC/);
    now += 61_000;
    assert.equal((await monitor.status()).ok, true, 'forgotten after recentMs');
    // A missing directory is not an error of the check.
    assert.equal(
      (await new DiskSpaceMonitor({ dir: join(dir, 'missing'), minFreeBytes: 1 }).status()).ok,
      true,
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
