/**
 * Test harness: every storage test runs against SQLite (a fresh temp dir) and PostgreSQL (a
 * fresh schema `t_<random>` in TEST_DATABASE_URL, dropped afterwards). An unreachable
 * PostgreSQL fails the tests: CI starts one.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import pg from 'pg';
import { SQLITE_FILE_NAME, createStore, type CreateStoreOptions } from '../index.js';
import type { Store } from '../store.js';

export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface TestDatabase {
  readonly kind: 'sqlite' | 'postgres';
  /** The `createStore` options of this database, for other threads and processes. */
  readonly options: CreateStoreOptions;
  /** Opens a store on this database (several may be open at once on PostgreSQL). */
  open(extra?: Pick<CreateStoreOptions, 'clock' | 'poolSize'>): Promise<Store>;
  /** Runs raw SQL on the database outside any store (to tamper with it). */
  execute(sqlText: string): Promise<void>;
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
  execute: (sqlText: string) => Promise<void>,
  cleanup: () => Promise<void>,
): TestDatabase {
  const opened: Store[] = [];
  return {
    kind,
    options: base,
    execute,
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
    const execute = async (sqlText: string) => {
      const database = new DatabaseSync(join(dataDir, SQLITE_FILE_NAME));
      try {
        database.exec(sqlText);
      } finally {
        database.close();
      }
    };
    return tracking('sqlite', { dataDir }, execute, () => rm(dataDir, { recursive: true, force: true }));
  },
};

export const postgresBackend: Backend = {
  kind: 'postgres',
  async create() {
    const schema = `t_${randomBytes(6).toString('hex')}`;
    const run = async (sqlText: string) => {
      const client = new pg.Client({
        connectionString: TEST_DATABASE_URL,
        options: `-c search_path=${schema}`,
      });
      await client.connect();
      try {
        await client.query(sqlText);
      } finally {
        await client.end();
      }
    };
    const options = { dataDir: '', databaseUrl: TEST_DATABASE_URL, schema };
    return tracking('postgres', options, run, () => run(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`));
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
