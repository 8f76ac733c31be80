import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import type { JobRecord, Store } from '../storage/store.js';
import { BACKENDS, withDatabase } from '../storage/test-support/backends.js';
import type { StoreWorkerTask } from '../storage/test-support/store-worker.js';
import { createAnalysisQueue } from './analysis-queue.js';
import { JobDispatcher } from './job-dispatcher.js';
import type { JobDispatcherOptions } from './job-dispatcher.js';

const WORKER = fileURLToPath(new URL('../storage/test-support/store-worker.js', import.meta.url));

const artifact = (index: number) => ({
  name: `pkg-${index}`,
  version: '1.0.0',
  integrity: `sha512-P${index}`,
});

/** Polls `condition` until it holds (generous: the machine may be at load 10). */
async function until(condition: () => Promise<boolean> | boolean, what: string, limitMs = 120_000) {
  const deadline = Date.now() + limitMs;
  while (!(await condition())) {
    assert.ok(Date.now() < deadline, `timed out waiting for ${what}`);
    await delay(20);
  }
}

function dispatcher(
  store: Store,
  options: Partial<JobDispatcherOptions> & Pick<JobDispatcherOptions, 'handle'>,
): JobDispatcher {
  return new JobDispatcher({ store, capacity: 4, leaseMs: 30_000, ...options });
}

/** Counts the store's job-queue calls (what an idle server would cost the database). */
function counting(store: Store): { store: Store; claims: () => number } {
  let claims = 0;
  const wrapped = Object.create(store) as Store;
  wrapped.claimJobs = (...args) => {
    claims++;
    return store.claimJobs(...args);
  };
  return { store: wrapped, claims: () => claims };
}

for (const backend of BACKENDS) {
  describe(`job dispatcher (${backend.kind})`, () => {
    test('claims in batches up to its capacity, runs everything once, sleeps when idle', () =>
      withDatabase(backend, async (database) => {
        const base = await database.open();
        const { store, claims } = counting(base);
        let running = 0;
        let peak = 0;
        const handled: string[] = [];
        const pool = dispatcher(store, {
          capacity: 3,
          handle: async (job) => {
            running++;
            peak = Math.max(peak, running);
            await delay(30);
            handled.push(job.name);
            await store.completeJob(job.id, 'done', undefined, job.workerId);
            running--;
          },
        });
        await pool.start();
        try {
          const queue = createAnalysisQueue({ store, wake: () => pool.wake() });
          await queue.queueAnalysis(Array.from({ length: 10 }, (_, index) => artifact(index)));
          await until(() => handled.length === 10, 'all ten jobs');
          assert.equal(peak, 3, 'never more in flight than the capacity');
          assert.deepEqual([...handled].sort(), Array.from({ length: 10 }, (_, i) => `pkg-${i}`).sort());
          // Idle: with a 30 s lease the next look at the queue is 15 s away.
          const before = claims();
          await delay(1500);
          assert.ok(claims() - before <= 1, `${claims() - before} claims in 1.5 s of idleness`);
        } finally {
          await pool.close();
        }
      }));

    test('13.7: work that outlives several leases while the event loop stalls is not reclaimed', () =>
      withDatabase(backend, async (database) => {
        const storeA = await database.open();
        const storeB = await database.open();
        const leaseMs = 2000;
        const runs: string[] = [];
        const work = async (worker: string, job: JobRecord, signal: AbortSignal) => {
          runs.push(worker);
          // About 5 leases of work, with synchronous stalls of a fifth of a lease (a busy machine).
          for (let step = 0; step < 12; step++) {
            const end = Date.now() + leaseMs / 5;
            while (Date.now() < end) {
              /* the event loop is blocked */
            }
            await delay(leaseMs / 4);
            signal.throwIfAborted();
          }
          await storeA.completeJob(job.id, 'done', undefined, job.workerId);
        };
        const a = dispatcher(storeA, { leaseMs, idlePollMs: 50, handle: (job, s) => work('a', job, s) });
        await a.start();
        const [job] = await createAnalysisQueue({ store: storeA, wake: () => a.wake() }).queueAnalysis([
          artifact(1),
        ]);
        await until(() => runs.length === 1, 'the first dispatcher takes the job');
        // A second replica polls the queue constantly while the job runs.
        const b = dispatcher(storeB, { leaseMs, idlePollMs: 50, handle: (j, s) => work('b', j, s) });
        await b.start();
        try {
          await until(async () => (await storeA.getJob(job!.id))?.status === 'done', 'the job to finish');
        } finally {
          await Promise.all([a.close(), b.close()]);
        }
        assert.deepEqual(runs, ['a'], 'run once, by the dispatcher that claimed it');
        assert.equal((await storeA.getJob(job!.id))?.attempts, 1);
      }));

    test('13.9: a job whose handler failed (disk full) goes back to the queue, later, and runs again', () =>
      withDatabase(backend, async (database) => {
        const store = await database.open();
        const [job] = await createAnalysisQueue({ store }).queueAnalysis([artifact(9)]);
        const full = Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
        // The first release fails too (the database is full): it is tried again at the next heartbeat.
        const flaky = Object.create(store) as Store;
        let releases = 0;
        let released = 0; // releases that reached the database (the second try on)
        flaky.releaseJob = async (...args) => {
          if (++releases === 1) throw full;
          const result = await store.releaseJob(...args);
          released++;
          return result;
        };
        const claims: JobRecord[] = [];
        const failedAt: number[] = [];
        const worker = dispatcher(flaky, {
          leaseMs: 600,
          retryDelayMs: 1500,
          handle: async (claimed) => {
            claims.push(claimed);
            if (claims.length === 1) {
              failedAt.push(Date.now());
              throw full;
            }
            await store.completeJob(claimed.id, 'done', undefined, claimed.workerId);
          },
        });
        await worker.start();
        try {
          // Read once the second try has been written, not while it is on its way (a race under load).
          await until(() => released >= 1, 'the release to be tried again');
          const stored = await store.getJob(job!.id);
          if (claims.length === 1) {
            assert.equal(stored?.status, 'queued', 'not left running in the failed worker’s name');
            assert.match(stored?.error ?? '', /ENOSPC/);
          }
          await until(async () => (await store.getJob(job!.id))?.status === 'done', 'the job to run again');
        } finally {
          await worker.close();
        }
        assert.equal(claims.length, 2);
        assert.equal(claims[1]?.attempts, 1, 'a disk-full claim is not counted');
        assert.ok(Date.now() - failedAt[0]! >= 1500, 'claimed again only after the retry delay');
      }));

    test("13.7: a killed worker's job is reclaimed after its lease and run", () =>
      withDatabase(backend, async (database) => {
        const store = await database.open();
        const [job] = await createAnalysisQueue({ store }).queueAnalysis([artifact(7)]);
        const task: StoreWorkerTask = { kind: 'dispatch-forever', options: database.options, leaseMs: 3000 };
        const child = spawn(process.execPath, [WORKER, JSON.stringify(task)], {
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let stderr = '';
        child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
        await new Promise<void>((resolve, reject) => {
          child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
            if (chunk.includes(`claimed ${job!.id}`)) resolve();
          });
          child.once('exit', (code) => reject(new Error(`worker exited (${code}): ${stderr}`)));
        });
        // Alive, the worker keeps its lease: nobody else can take the job.
        await delay(4000);
        assert.equal(await store.claimJob('thief', 1000), undefined, "a live worker's lease holds");
        const exited = once(child, 'exit');
        child.kill('SIGKILL');
        await exited;
        const handled: JobRecord[] = [];
        const survivor = dispatcher(store, {
          leaseMs: 1000,
          handle: async (claimed) => {
            handled.push(claimed);
            await store.completeJob(claimed.id, 'done', undefined, claimed.workerId);
          },
        });
        await survivor.start();
        try {
          await until(() => handled.length === 1, 'the dead worker’s job to be reclaimed');
        } finally {
          await survivor.close();
        }
        assert.equal(handled[0]?.id, job!.id);
        assert.equal(handled[0]?.attempts, 2);
      }));

    if (backend.kind === 'postgres') {
      test('a job queued through another replica wakes this one at once (LISTEN/NOTIFY)', () =>
        withDatabase(backend, async (database) => {
          const listening = await database.open();
          const other = await database.open();
          const handled: string[] = [];
          // No idle polling to speak of: only the notification can wake it in time.
          const pool = dispatcher(listening, {
            idlePollMs: 600_000,
            handle: async (job) => {
              handled.push(job.name);
              await listening.completeJob(job.id, 'done', undefined, job.workerId);
            },
          });
          await pool.start();
          try {
            await delay(200); // the first (empty) claim is done; the dispatcher sleeps
            await createAnalysisQueue({ store: other }).queueAnalysis([artifact(3)]);
            await until(() => handled.length === 1, 'the notified dispatcher', 60_000);
          } finally {
            await pool.close();
          }
          assert.deepEqual(handled, ['pkg-3']);
        }));
    }
  });
}
