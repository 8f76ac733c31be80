/** Opens the SQLite file or the PostgreSQL pool behind a Kysely instance. */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { RemoteError, UserError } from '@secure-registry/shared';
import { NodeSqliteDialect } from './node-sqlite-dialect.js';
import type { Database } from './schema.js';

export const SQLITE_FILE_NAME = 'secure-registry.db';
const BUSY_TIMEOUT_MS = 5000;
const SCHEMA_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

export interface OpenedDatabase {
  db: Kysely<Database>;
  kind: 'sqlite' | 'postgres';
  /** Where Kysely keeps its migration tables (PostgreSQL schema); undefined for SQLite. */
  migrationSchema: string | undefined;
}

/**
 * `<dataDir>/secure-registry.db` in WAL mode (a killed process loses no committed transaction),
 * with foreign keys on and a busy timeout for other processes holding the write lock.
 */
export async function openSqlite(dataDir: string): Promise<OpenedDatabase> {
  const file = join(dataDir, SQLITE_FILE_NAME);
  let database: DatabaseSync;
  try {
    await mkdir(dataDir, { recursive: true });
    database = new DatabaseSync(file);
    database.exec(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`);
    database.exec('PRAGMA journal_mode = WAL');
    database.exec('PRAGMA synchronous = NORMAL');
    database.exec('PRAGMA foreign_keys = ON');
  } catch (error) {
    throw new UserError(
      'ERR_SR_DATABASE_OPEN',
      `cannot open the SQLite database ${file}: ${messageOf(error)}`,
      {
        hint: 'check that the data directory exists, is writable and is not used by an incompatible version',
        cause: error,
      },
    );
  }
  return {
    db: new Kysely<Database>({ dialect: new NodeSqliteDialect(database) }),
    kind: 'sqlite',
    migrationSchema: undefined,
  };
}

/** The URL without its password, for messages. */
export function redactDatabaseUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '<unparseable database URL>';
  }
}

export interface PostgresOptions {
  url: string;
  /** Schema to create (if missing) and use as the search_path. */
  schema?: string | undefined;
  poolSize?: number | undefined;
  /**
   * Errors of idle pooled connections (the server restarted, the network dropped). The pool
   * already discards the broken connection; the next query reconnects or fails loudly.
   */
  onIdleError?: ((error: Error) => void) | undefined;
}

export async function openPostgres(options: PostgresOptions): Promise<OpenedDatabase> {
  if (options.schema !== undefined && !SCHEMA_NAME.test(options.schema)) {
    throw new UserError(
      'ERR_SR_DATABASE_SCHEMA',
      `invalid PostgreSQL schema name: ${JSON.stringify(options.schema)}`,
      {
        hint: 'use letters, digits and underscores, starting with a letter or underscore',
      },
    );
  }
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.poolSize ?? 10,
    connectionTimeoutMillis: 10_000,
    ...(options.schema === undefined ? {} : { options: `-c search_path=${options.schema}` }),
  });
  pool.on('error', (error) => options.onIdleError?.(error));
  let currentSchema: string;
  try {
    const client = await pool.connect();
    try {
      if (options.schema !== undefined) await client.query(`CREATE SCHEMA IF NOT EXISTS "${options.schema}"`);
      const result = await client.query<{ schema: string | null }>('SELECT current_schema() AS schema');
      currentSchema = result.rows[0]?.schema ?? 'public';
    } finally {
      client.release();
    }
  } catch (error) {
    await pool.end().catch(() => undefined);
    throw new RemoteError(
      'ERR_SR_DATABASE_UNREACHABLE',
      `cannot use PostgreSQL at ${redactDatabaseUrl(options.url)}: ${messageOf(error)}`,
      { hint: 'check DATABASE_URL, that the server is running and that the user may connect', cause: error },
    );
  }
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return { db, kind: 'postgres', migrationSchema: currentSchema };
}

function messageOf(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0)
    return error.errors.map(messageOf).join('; ');
  return error instanceof Error ? error.message : String(error);
}
