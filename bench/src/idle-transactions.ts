/**
 * Idle-server database load: database transactions per second of a `secure-registry-server` that
 * has nothing to do, on PostgreSQL, over a window (default 30 s). Counted from the server's own
 * database in `pg_stat_database` (xact_commit + xact_rollback deltas), read from another database
 * so the measuring queries do not count. Goal: ≤ 1/s.
 * Usage: node bench/dist/idle-transactions.js [--seconds 30] [--settle 12] [--database-url URL]
 *        [--sandbox on|off] [--json]
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseCommandLine } from './cli-args.js';
import { freshDatabase, idleTransactionsPerSecond } from './pg-stats.js';

const USAGE =
  'idle-transactions.js [--seconds 30] [--settle 12] [--sandbox on|off] [--database-url URL] [--json]';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SERVER_BIN = path.join(REPO_ROOT, 'packages', 'server', 'dist', 'main.js');
const GOAL_PER_SECOND = 1;

/**
 * The figure before the job dispatcher replaced the polling worker loops (1,024 loops with the
 * sandbox on, each polling the queue every second): measured with this script on main at
 * bbc3efd, same machine, sandbox on, 30 s window. That code is gone, so it is recorded here.
 */
export const RECORDED_BEFORE = { commit: 'bbc3efd', perSecond: 880 };

async function startServer(env: NodeJS.ProcessEnv): Promise<{ stop(): Promise<void> }> {
  const child = spawn(process.execPath, [SERVER_BIN], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  await new Promise<void>((resolve, reject) => {
    child.stderr.on('data', (chunk: string) => {
      stderr += chunk;
      if (stderr.includes('listening on')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`server exited with ${code}:\n${stderr}`)));
  });
  return {
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

async function main(): Promise<number> {
  const { values } = parseCommandLine(USAGE, {
    options: {
      seconds: { type: 'string', default: '30' },
      settle: { type: 'string', default: '12' },
      'database-url': {
        type: 'string',
        default: process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
      },
      sandbox: { type: 'string', default: 'on' },
      json: { type: 'boolean', default: false },
    },
  });
  const seconds = Number(values.seconds);
  const settle = Number(values.settle);
  const database = freshDatabase(values['database-url'], 'sr_bench_idle');
  const dataDir = await mkdtemp(path.join(tmpdir(), 'sr-bench-idle-'));
  let server: { stop(): Promise<void> } | undefined;
  try {
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      SR_DATABASE_URL: database.url,
      SR_DATA_DIR: dataDir,
      SR_PORT: '0',
      SR_SANDBOX: values.sandbox,
      SR_UPSTREAM_REGISTRY: 'http://127.0.0.1:9/',
      SR_LOG_LEVEL: 'silent',
    };
    server = await startServer(env);
    // Start-up work (migrations, the sandbox check) and the statistics collector's lag settle first.
    const idle = await idleTransactionsPerSecond(database, seconds, settle);
    const { perSecond, seconds: elapsed } = idle;
    const recorded = Number.isFinite(RECORDED_BEFORE.perSecond)
      ? `${RECORDED_BEFORE.perSecond.toFixed(1)}/s (polling worker loops, ${RECORDED_BEFORE.commit})`
      : 'not recorded';
    console.log(`idle server, PostgreSQL, sandbox ${values.sandbox}, ${elapsed.toFixed(1)} s window`);
    console.log(`  before (recorded): ${recorded}`);
    console.log(
      `  now:               ${perSecond.toFixed(2)} transactions/s (${idle.transactions} in the window)`,
    );
    if (Number.isFinite(RECORDED_BEFORE.perSecond) && perSecond > 0) {
      console.log(`  ratio before/now:  ${(RECORDED_BEFORE.perSecond / perSecond).toFixed(0)}×`);
    }
    console.log(`  goal ≤ ${GOAL_PER_SECOND}/s: ${perSecond <= GOAL_PER_SECOND ? 'met' : 'NOT met'}`);
    if (values.json) {
      console.log(
        JSON.stringify({
          seconds: elapsed,
          transactions: idle.transactions,
          perSecond,
          before: RECORDED_BEFORE,
        }),
      );
    }
    return perSecond <= GOAL_PER_SECOND ? 0 : 1;
  } finally {
    await server?.stop();
    await rm(dataDir, { recursive: true, force: true });
    database.drop();
  }
}

process.exitCode = await main();
