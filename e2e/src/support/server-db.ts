/**
 * The database of a server process, read from outside as an operator would (hostile suite): SQLite
 * through node:sqlite read-only, PostgreSQL through psql in the test's own schema.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as path from 'node:path';
import { DatabaseSync } from 'node:sqlite';

export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface ServerDatabase {
  kind: 'sqlite' | 'postgres';
  /** The server's environment for this database (SR_DATA_DIR stays the caller's). */
  env: Record<string, string>;
  /** Rows of one SQL query (text values). */
  query(sqlText: string): Record<string, unknown>[];
  /** Drops the PostgreSQL schema; nothing for SQLite (the data directory is the caller's). */
  dispose(): void;
}

function psql(args: string[]): string {
  return execFileSync('psql', [TEST_DATABASE_URL, '-v', 'ON_ERROR_STOP=1', '-qtA', ...args], {
    encoding: 'utf8',
    // NOTICEs (a DROP ... CASCADE lists every table) are not the test's output.
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** SQLite in `dataDir` (the server's default), or a new PostgreSQL schema. */
export function serverDatabase(kind: 'sqlite' | 'postgres', dataDir: string): ServerDatabase {
  if (kind === 'sqlite') {
    return {
      kind,
      env: {},
      query: (sqlText) => {
        const db = new DatabaseSync(path.join(dataDir, 'secure-registry.db'), { readOnly: true });
        try {
          return db.prepare(sqlText).all() as Record<string, unknown>[];
        } finally {
          db.close();
        }
      },
      dispose: () => undefined,
    };
  }
  const schema = `sr_hostile_${randomBytes(6).toString('hex')}`;
  psql(['-c', `CREATE SCHEMA ${schema}`]);
  const url = new URL(TEST_DATABASE_URL);
  url.searchParams.set('options', `-c search_path=${schema}`);
  return {
    kind,
    env: { SR_DATABASE_URL: url.toString() },
    query: (sqlText) => {
      const json = psql([
        '-c',
        `SET search_path = ${schema}`,
        '-c',
        `SELECT coalesce(json_agg(q), '[]') FROM (${sqlText}) q`,
      ]);
      return JSON.parse(json.trim()) as Record<string, unknown>[];
    },
    dispose: () => void psql(['-c', `DROP SCHEMA IF EXISTS ${schema} CASCADE`]),
  };
}
