/** Opens the SQLite file or the PostgreSQL pool behind a Kysely instance. */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { Kysely, sql } from 'kysely';
import pg from 'pg';
import { RemoteError, UserError } from '@secure-registry/shared';
import { NodeSqliteDialect } from './node-sqlite-dialect.js';
import { SchemaScopedPostgresDialect } from './postgres-dialect.js';
import type { Database } from './schema.js';

export const SQLITE_FILE_NAME = 'secure-registry.db';
const BUSY_TIMEOUT_MS = 5000;
const SCHEMA_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

export interface OpenedDatabase {
  db: Kysely<Database>;
  kind: 'sqlite' | 'postgres';
  /** PostgreSQL: the schema worked in (undefined: the default search_path). */
  schema?: string | undefined;
  /**
   * Runs schema setup (migrations) on one connection, exclusive of every other process setting up
   * the same database; `schema` is where Kysely keeps its migration tables (PostgreSQL only). On
   * SQLite the setup is one transaction: `body` must throw to roll it back.
   */
  withSetupLock<T>(body: (db: Kysely<Database>, schema: string | undefined) => Promise<T>): Promise<T>;
  /**
   * PostgreSQL only: LISTEN on `channel` over a dedicated connection (not one of the pool's);
   * `onMessage` gets each NOTIFY's payload. Resolves once listening; the result stops it. The
   * connection's failure goes to `onError` (the caller listens again).
   */
  listen?(
    channel: string,
    onMessage: (payload: string) => void,
    onError: (error: Error) => void,
  ): Promise<() => Promise<void>>;
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
  const db = new Kysely<Database>({ dialect: new NodeSqliteDialect(database) });
  return {
    db,
    kind: 'sqlite',
    // Kysely runs SQLite migrations outside a transaction; one immediate transaction around
    // the whole setup makes it atomic (a killed process leaves no half schema) and exclusive.
    withSetupLock: (body) =>
      db.connection().execute(async (connection) => {
        await sql`BEGIN IMMEDIATE`.execute(connection);
        try {
          const result = await body(connection, undefined);
          await sql`COMMIT`.execute(connection);
          return result;
        } catch (error) {
          await sql`ROLLBACK`.execute(connection);
          throw error;
        }
      }),
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
  const connection = {
    connectionString: options.url,
    connectionTimeoutMillis: 10_000,
    ...(options.schema === undefined ? {} : { options: `-c search_path=${options.schema}` }),
  };
  const pool = new pg.Pool({ ...connection, max: options.poolSize ?? 10 });
  pool.on('error', (error) => options.onIdleError?.(error));
  try {
    const client = await pool.connect();
    try {
      await client.query('SELECT 1');
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
  const db = new Kysely<Database>({ dialect: new SchemaScopedPostgresDialect({ pool }) });
  const lockKey = `secure-registry:setup:${options.schema ?? ''}`;
  return {
    db,
    kind: 'postgres',
    schema: options.schema,
    listen: async (channel, onMessage, onError) => {
      const client = new pg.Client(connection);
      client.on('error', onError);
      client.on('notification', (message) => {
        if (message.channel === channel) onMessage(message.payload ?? '');
      });
      await client.connect();
      try {
        await client.query(`LISTEN ${client.escapeIdentifier(channel)}`);
      } catch (error) {
        await client.end().catch(() => undefined);
        throw error;
      }
      return () => client.end().catch(() => undefined);
    },
    // A session advisory lock: servers starting together on a fresh database would otherwise
    // race creating the schema and Kysely's migration tables.
    withSetupLock: (body) =>
      db.connection().execute(async (connection) => {
        await sql`SELECT pg_advisory_lock(hashtext(${lockKey}))`.execute(connection);
        try {
          if (options.schema !== undefined) {
            await sql`CREATE SCHEMA IF NOT EXISTS ${sql.id(options.schema)}`.execute(connection);
          }
          const result = await sql<{ schema: string | null }>`SELECT current_schema() AS schema`.execute(
            connection,
          );
          return await body(connection, result.rows[0]?.schema ?? 'public');
        } finally {
          await sql`SELECT pg_advisory_unlock(hashtext(${lockKey}))`.execute(connection);
        }
      }),
  };
}

function messageOf(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0)
    return error.errors.map(messageOf).join('; ');
  return error instanceof Error ? error.message : String(error);
}
