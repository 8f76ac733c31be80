import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';

/** The PostgreSQL the tests use (trust auth); TEST_DATABASE_URL overrides it. */
export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

const run = promisify(execFile);

/** A fresh, uniquely named schema (created by the first server that opens it), read with `psql`. */
export interface TestSchema {
  name: string;
  /** The database it is in. */
  url: string;
  /** The rows of a SELECT run in the schema, as JSON objects. */
  rows<T>(select: string): Promise<T[]>;
  /** Drops the schema and everything in it. */
  drop(): Promise<void>;
}

async function psql(url: string, sqlText: string, schema: string): Promise<string> {
  const { stdout } = await run('psql', ['-X', '-At', '-v', 'ON_ERROR_STOP=1', url, '-c', sqlText], {
    env: { ...process.env, PGOPTIONS: `-c search_path=${schema}` },
    maxBuffer: 64 * 1024 * 1024,
  });
  return stdout;
}

export function freshSchema(prefix = 'e2e', url = TEST_DATABASE_URL): TestSchema {
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  return {
    name,
    url,
    async rows<T>(select: string) {
      const out = await psql(url, `SELECT coalesce(json_agg(t), '[]'::json) FROM (${select}) t`, name);
      return JSON.parse(out) as T[];
    },
    async drop() {
      await psql(url, `DROP SCHEMA IF EXISTS "${name}" CASCADE`, name);
    },
  };
}

/** Per artifact (by name): its finished analyses and its completed jobs. */
export interface AnalysisCount {
  analyses: number;
  done: number;
}

/**
 * How often each artifact of a secure-registry schema was analysed: the `static` step's `finished`
 * events on the scans (one per analysis that got that far, per scan holding the artifact: count on
 * a schema with one scan) and its completed jobs.
 */
export async function analysesPerArtifact(schema: TestSchema): Promise<Map<string, AnalysisCount>> {
  const analyses = await schema.rows<{ name: string; n: number }>(
    `SELECT data::json->>'name' || '@' || (data::json->>'version') AS name, count(*)::int AS n
     FROM scan_events
     WHERE data::json->>'type' = 'package.phase' AND data::json->>'phase' = 'static'
       AND data::json->>'status' = 'finished'
     GROUP BY 1`,
  );
  const done = await schema.rows<{ name: string; n: number }>(
    `SELECT name || '@' || version AS name, count(*)::int AS n FROM jobs
     WHERE status IN ('done', 'failed') GROUP BY 1`,
  );
  const counts = new Map<string, AnalysisCount>();
  for (const row of analyses) counts.set(row.name, { analyses: row.n, done: 0 });
  for (const row of done)
    counts.set(row.name, { analyses: counts.get(row.name)?.analyses ?? 0, done: row.n });
  return counts;
}
