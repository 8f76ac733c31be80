// PostgreSQL statistics for the benches: a database of their own, and its transactions per second
// read from `pg_stat_database` (xact_commit + xact_rollback deltas) through separate `psql`
// connections to the `postgres` database, so the measuring queries do not count themselves.
import { execFileSync } from 'node:child_process';
import { setTimeout as delay } from 'node:timers/promises';

export function psql(url: string, sql: string): string {
  return execFileSync('psql', ['-X', '-At', '-v', 'ON_ERROR_STOP=1', url, '-c', sql], {
    encoding: 'utf8',
  }).trim();
}

/** `url` with its database name replaced. */
export function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.href;
}

/** The database's committed and rolled-back transactions so far. */
export function transactions(adminUrl: string, database: string): number {
  // A new connection per reading: its statistics snapshot is fresh.
  return Number(
    psql(adminUrl, `select xact_commit + xact_rollback from pg_stat_database where datname = '${database}'`),
  );
}

export interface FreshDatabase {
  /** Its name, and a URL to it (the server's `SR_DATABASE_URL`). */
  name: string;
  url: string;
  /** The `postgres` database on the same server, for statistics. */
  adminUrl: string;
  drop(): void;
}

/** A new, empty database on the server of `url`, dropped (with its connections) by `drop()`. */
export function freshDatabase(url: string, prefix: string): FreshDatabase {
  const adminUrl = withDatabase(url, 'postgres');
  const name = `${prefix}_${process.pid}_${Date.now().toString(36)}`;
  psql(adminUrl, `create database ${name}`);
  return {
    name,
    url: withDatabase(url, name),
    adminUrl,
    drop: () => void psql(adminUrl, `drop database if exists ${name} with (force)`),
  };
}

/**
 * The database's transactions per second over `seconds`, after `settleSeconds` for start-up work and
 * the statistics collector's lag.
 */
export async function idleTransactionsPerSecond(
  database: Pick<FreshDatabase, 'name' | 'adminUrl'>,
  seconds: number,
  settleSeconds = 12,
): Promise<{ seconds: number; transactions: number; perSecond: number }> {
  await delay(settleSeconds * 1000);
  const before = transactions(database.adminUrl, database.name);
  const started = performance.now();
  await delay(seconds * 1000);
  const after = transactions(database.adminUrl, database.name);
  const elapsed = (performance.now() - started) / 1000;
  return { seconds: elapsed, transactions: after - before, perSecond: (after - before) / elapsed };
}
