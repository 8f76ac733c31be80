/**
 * Test harness: every storage test runs against SQLite (a fresh temp dir) and PostgreSQL (a
 * fresh schema `t_<random>` in TEST_DATABASE_URL, dropped afterwards). An unreachable
 * PostgreSQL fails the tests: CI starts one.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { createStore, type CreateStoreOptions } from '../index.js';
import type { Store } from '../store.js';

export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface TestDatabase {
  readonly kind: 'sqlite' | 'postgres';
  /** The `createStore` options of this database, for other threads and processes. */
  readonly options: CreateStoreOptions;
  /** Opens a store on this database (several may be open at once on PostgreSQL). */
  open(extra?: Pick<CreateStoreOptions, 'clock' | 'poolSize'>): Promise<Store>;
  /** Closes every store opened here and deletes the database. */
  dispose(): Promise<void>;
}

export interface Backend {
  readonly kind: 'sqlite' | 'postgres';
  create(): Promise<TestDatabase>;
}

function tracking(
  kind: TestDatabase['kind'],
  base: CreateStoreOptions,
  cleanup: () => Promise<void>,
): TestDatabase {
  const opened: Store[] = [];
  return {
    kind,
    options: base,
    async open(extra = {}) {
      const store = await createStore({ ...base, ...extra });
      opened.push(store);
      return store;
    },
    async dispose() {
      await Promise.all(opened.map((store) => store.close()));
      await cleanup();
    },
  };
}

export const sqliteBackend: Backend = {
  kind: 'sqlite',
  async create() {
    const dataDir = await mkdtemp(join(tmpdir(), 'sr-storage-'));
    return tracking('sqlite', { dataDir }, () => rm(dataDir, { recursive: true, force: true }));
  },
};

export const postgresBackend: Backend = {
  kind: 'postgres',
  async create() {
    const schema = `t_${randomBytes(6).toString('hex')}`;
    return tracking('postgres', { dataDir: '', databaseUrl: TEST_DATABASE_URL, schema }, async () => {
      const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
      await client.connect();
      try {
        await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      } finally {
        await client.end();
      }
    });
  },
};

export const BACKENDS: readonly Backend[] = [sqliteBackend, postgresBackend];

/** Runs `body` with a fresh database of the backend, disposing of it afterwards. */
export async function withDatabase<T>(
  backend: Backend,
  body: (database: TestDatabase) => Promise<T>,
): Promise<T> {
  const database = await backend.create();
  try {
    return await body(database);
  } finally {
    await database.dispose();
  }
}

/** A clock tests move by hand. */
export function manualClock(start = Date.parse('2030-01-01T00:00:00.000Z')): {
  now: () => number;
  advance: (ms: number) => void;
} {
  let current = start;
  return {
    now: () => current,
    advance: (ms) => {
      current += ms;
    },
  };
}
