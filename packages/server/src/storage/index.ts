/**
 * Storage entry point: `createStore` opens SQLite (`<dataDir>/secure-registry.db`, through
 * `node:sqlite`) or, given a `postgres://` URL, PostgreSQL, and applies migrations.
 */
import { UserError } from '@secure-registry/shared';
import { KyselyStore } from './kysely-store.js';
import { openPostgres, openSqlite, redactDatabaseUrl } from './open-database.js';
import type { Store } from './store.js';

export type * from './store.js';
export { SQLITE_FILE_NAME, redactDatabaseUrl } from './open-database.js';

export interface CreateStoreOptions {
  /** Directory of the SQLite file; created if missing. Used when `databaseUrl` is not given. */
  dataDir: string;
  /** `postgres://` or `postgresql://` URL: use PostgreSQL instead of SQLite. */
  databaseUrl?: string | undefined;
  /** PostgreSQL only: a schema to create if missing and to work in (via search_path). */
  schema?: string | undefined;
  /** PostgreSQL only: the pool size (default 10). */
  poolSize?: number | undefined;
  /** PostgreSQL only: errors of idle pooled connections (see `PostgresOptions.onIdleError`). */
  onIdleError?: ((error: Error) => void) | undefined;
  /** Milliseconds since the epoch; tests move time with it (leases). Default `Date.now`. */
  clock?: (() => number) | undefined;
}

/**
 * Opens the database and applies pending migrations (exclusively: stores starting together on a
 * fresh database are safe). SQLite: open one store per file per process; other processes may
 * share the file (WAL, busy timeout). The caller closes the store.
 */
export async function createStore(options: CreateStoreOptions): Promise<Store> {
  const url = options.databaseUrl;
  if (url !== undefined && url !== '' && !/^postgres(ql)?:\/\//i.test(url)) {
    throw new UserError('ERR_SR_DATABASE_URL', `unsupported database URL: ${redactDatabaseUrl(url)}`, {
      hint: 'use postgres://user:password@host:port/database, or leave it unset for SQLite in the data directory',
    });
  }
  const opened =
    url !== undefined && url !== ''
      ? await openPostgres({
          url,
          schema: options.schema,
          poolSize: options.poolSize,
          onIdleError: options.onIdleError,
        })
      : await openSqlite(options.dataDir);
  const store = new KyselyStore(opened, options.clock ?? Date.now);
  try {
    await store.migrate();
  } catch (error) {
    await store.close();
    throw error;
  }
  return store;
}
