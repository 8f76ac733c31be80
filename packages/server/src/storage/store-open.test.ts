import { describe, test } from 'node:test';
import { strict as assert } from 'node:assert';
import { createStore } from './index.js';
import { BACKENDS, TEST_DATABASE_URL, withDatabase } from './test-support/backends.js';

for (const backend of BACKENDS) {
  describe(`storage opening and migrations (${backend.kind})`, () => {
    test('migrations are idempotent and data survives reopening', () =>
      withDatabase(backend, async (database) => {
        const store = await database.open();
        await store.migrate();
        await store.migrate();
        await store.upsertArtifact(
          { name: 'a', version: '1.0.0', integrity: 'sha512-A' },
          { verdict: 'approved' },
        );
        const job = await store.enqueueJob({ name: 'b', version: '1.0.0', integrity: 'sha512-B' });
        await store.close();
        await store.close();
        const reopened = await database.open();
        await reopened.migrate();
        assert.equal(
          (await reopened.getArtifact({ name: 'a', version: '1.0.0', integrity: 'sha512-A' }))?.verdict,
          'approved',
        );
        assert.equal((await reopened.getJob(job.id))?.status, 'queued');
      }));

    test('stores opening a fresh database at once all migrate it', () =>
      withDatabase(backend, async (database) => {
        // SQLite: one store per process (see createStore); the threaded test covers SQLite.
        const count = backend.kind === 'postgres' ? 4 : 1;
        const stores = await Promise.all(Array.from({ length: count }, () => database.open()));
        for (const store of stores) assert.equal(await store.countJobs('queued'), 0);
      }));

    test('a database migrated by a newer version is refused', () =>
      withDatabase(backend, async (database) => {
        const store = await database.open();
        await store.close();
        await database.execute(
          "INSERT INTO kysely_migration (name, timestamp) VALUES ('9999-from-the-future', '2099-01-01T00:00:00.000Z')",
        );
        await assert.rejects(database.open(), (error: Error) => {
          assert.equal((error as { code?: string }).code, 'ERR_SR_DATABASE_MIGRATION');
          assert.match(error.message, /9999-from-the-future/);
          return true;
        });
      }));
  });
}

describe('createStore rejects bad configuration clearly', () => {
  test('a non-PostgreSQL URL is a user error', async () => {
    await assert.rejects(
      createStore({ dataDir: '/nonexistent', databaseUrl: 'mysql://u:secret@h/db' }),
      (error: Error) => {
        assert.equal((error as { code?: string }).code, 'ERR_SR_DATABASE_URL');
        assert.doesNotMatch(error.message, /secret/);
        return true;
      },
    );
  });

  test('an unreachable PostgreSQL is a remote error without the password', async () => {
    await assert.rejects(
      createStore({ dataDir: '', databaseUrl: 'postgres://u:hunter2@127.0.0.1:1/db' }),
      (error: Error) => {
        assert.equal((error as { code?: string }).code, 'ERR_SR_DATABASE_UNREACHABLE');
        assert.match(error.message, /127\.0\.0\.1:1/);
        assert.doesNotMatch(error.message, /hunter2/);
        return true;
      },
    );
  });

  test('an invalid schema name is refused before connecting', async () => {
    await assert.rejects(
      createStore({ dataDir: '', databaseUrl: TEST_DATABASE_URL, schema: 'x; drop table y' }),
      {
        code: 'ERR_SR_DATABASE_SCHEMA',
      },
    );
  });

  test('an unusable SQLite data directory is a user error', async () => {
    await assert.rejects(createStore({ dataDir: '/proc/version/sub' }), { code: 'ERR_SR_DATABASE_OPEN' });
  });
});
