import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { request } from 'undici';
import type { ScanResult, ScanSummary } from '@secure-registry/shared';
import { LoadBudget, scaledMs } from '@secure-registry/shared';
import { startServer } from '../start-server.js';
import type { RunningServer, StartServerOptions } from '../start-server.js';

export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface TestServer extends RunningServer {
  dataDir: string;
  json<T = unknown>(
    method: 'GET' | 'POST',
    path: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<{ status: number; body: T }>;
  /** Polls until the scan is no longer running; `timeoutMs` is idle-machine time, scaled by the load. */
  waitForScan(id: string, timeoutMs?: number): Promise<ScanResult>;
  dispose(): Promise<void>;
}

/** Starts the real server on 127.0.0.1:0 over SQLite in a temp dir, or PostgreSQL in a fresh schema. */
export async function startTestServer(
  options: Omit<StartServerOptions, 'dataDir'> & { backend?: 'sqlite' | 'postgres' },
): Promise<TestServer> {
  const dataDir = await mkdtemp(join(tmpdir(), 'sr-server-'));
  const schema = options.backend === 'postgres' ? `t_${randomBytes(6).toString('hex')}` : undefined;
  const server = await startServer({
    // SR_SANDBOX, SR_POLICY_FILE, SR_LLM_* of the test run (scripts/run-tests.mjs turns the sandbox off).
    env: process.env,
    port: 0,
    retry: { attempts: 2, baseDelayMs: 10, maxClaims: 3 },
    // Leases renew while the work is alive; the lease (and so the time a dead test worker's job
    // waits to be reclaimed) scales with the machine's load like every other test budget.
    leaseMs: scaledMs(5_000),
    ...options,
    dataDir,
    ...(schema ? { databaseUrl: TEST_DATABASE_URL, databaseSchema: schema } : {}),
  });
  const json: TestServer['json'] = async (method, path, body, headers = {}) => {
    const response = await request(server.url + path, {
      method,
      headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
      ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
    });
    const text = await response.body.text();
    return { status: response.statusCode, body: (text ? JSON.parse(text) : undefined) as never };
  };
  return {
    ...server,
    dataDir,
    json,
    async waitForScan(id, timeoutMs = 15_000) {
      const budget = new LoadBudget(timeoutMs);
      for (;;) {
        const { body } = await json<ScanResult>('GET', `/api/v1/scans/${id}`);
        if (body.status !== 'running') return body;
        if (budget.expired())
          throw new Error(`scan ${id} still running (${budget.describe()}): ${JSON.stringify(body.counts)}`);
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    },
    async dispose() {
      await server.close();
      await rm(dataDir, { recursive: true, force: true });
      if (schema) {
        const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
        await client.connect();
        try {
          await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
        } finally {
          await client.end();
        }
      }
    },
  };
}

export type { ScanSummary };
