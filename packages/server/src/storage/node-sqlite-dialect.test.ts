import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import { DatabaseSync } from 'node:sqlite';
import { Kysely, sql } from 'kysely';
import { NodeSqliteDialect, adaptNodeSqlite } from './node-sqlite-dialect.js';

/** node:sqlite returns rows with a null prototype. */
const plain = (rows: unknown[]) => rows.map((row) => ({ ...(row as object) }));

interface TestDb {
  t: { id: number; flag: number; label: string | null };
}

test('the adapter marks statements that return rows as readers', () => {
  const adapted = adaptNodeSqlite(new DatabaseSync(':memory:'));
  adapted.prepare('CREATE TABLE t (id INTEGER PRIMARY KEY, flag INTEGER, label TEXT)').run([]);
  assert.equal(adapted.prepare('SELECT 1').reader, true);
  assert.equal(adapted.prepare('INSERT INTO t (flag) VALUES (?) RETURNING id').reader, true);
  assert.equal(adapted.prepare('INSERT INTO t (flag) VALUES (?)').reader, false);
  assert.equal(adapted.prepare('BEGIN IMMEDIATE').reader, false);
  const result = adapted.prepare('INSERT INTO t (flag, label) VALUES (?, ?)').run([true, undefined]);
  assert.equal(Number(result.changes), 1);
  assert.deepEqual(
    plain(adapted.prepare('SELECT flag, label FROM t WHERE id = ?').all([Number(result.lastInsertRowid)])),
    [{ flag: 1, label: null }],
    'booleans bind as 1/0 and undefined as NULL',
  );
  adapted.close();
  adapted.close();
});

test('the statement cache stays correct past its bound', () => {
  const adapted = adaptNodeSqlite(new DatabaseSync(':memory:'));
  for (let round = 0; round < 2; round++) {
    for (let index = 0; index < 300; index++) {
      assert.deepEqual(plain(adapted.prepare(`SELECT ${index} AS v`).all([])), [{ v: index }]);
    }
  }
  adapted.close();
});

test('Kysely transactions on node:sqlite commit and roll back', async () => {
  const db = new Kysely<TestDb>({ dialect: new NodeSqliteDialect(new DatabaseSync(':memory:')) });
  try {
    await sql`CREATE TABLE t (id INTEGER PRIMARY KEY, flag INTEGER NOT NULL, label TEXT)`.execute(db);
    await db
      .transaction()
      .execute((trx) => trx.insertInto('t').values({ id: 1, flag: 1, label: 'kept' }).execute());
    await assert.rejects(
      db.transaction().execute(async (trx) => {
        await trx.insertInto('t').values({ id: 2, flag: 0, label: 'lost' }).execute();
        throw new Error('abort');
      }),
      /abort/,
    );
    assert.deepEqual(plain(await db.selectFrom('t').select(['id', 'label']).execute()), [
      { id: 1, label: 'kept' },
    ]);
    const updated = await db.updateTable('t').set({ flag: 0 }).where('id', '=', 1).executeTakeFirst();
    assert.equal(updated.numUpdatedRows, 1n);
  } finally {
    await db.destroy();
  }
});
