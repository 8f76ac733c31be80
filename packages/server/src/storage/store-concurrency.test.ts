/**
 * Separate connections (worker threads: on SQLite, separate handles on one file) and a process
 * killed with SIGKILL in the middle of writing.
 */
import { describe, test } from 'node:test';
import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { BACKENDS, withDatabase } from './test-support/backends.js';
import { EMPTY_GRAPH } from './test-support/fixtures.js';
import type { Store } from './store.js';
import type { MixedResult, StoreWorkerTask } from './test-support/store-worker.js';

const WORKER = fileURLToPath(new URL('./test-support/store-worker.js', import.meta.url));

/**
 * Starts one thread per task; each opens (and so migrates) the database at the same time. Once
 * all are open, `seed` runs, then the threads are released together. Returns what each posted.
 */
async function runThreads<T>(tasks: StoreWorkerTask[], seed: () => Promise<void>): Promise<T[]> {
  const workers = tasks.map((task) => new Worker(WORKER, { workerData: task }));
  // `once` rejects when the worker emits 'error' first.
  const nextMessage = async (worker: Worker): Promise<unknown> =>
    ((await once(worker, 'message')) as [unknown])[0];
  try {
    await Promise.all(workers.map(nextMessage));
    const ready = workers.map(nextMessage);
    for (const worker of workers) worker.postMessage('open');
    await Promise.all(ready);
    await seed();
    const results = workers.map(async (worker) => (await nextMessage(worker)) as T);
    for (const worker of workers) worker.postMessage('go');
    return await Promise.all(results);
  } finally {
    await Promise.all(workers.map((worker) => worker.terminate()));
  }
}

for (const backend of BACKENDS) {
  describe(`storage across connections (${backend.kind})`, () => {
    test('4 threads at once: concurrent migration, one shared job, each job claimed once, consecutive event numbers', () =>
      withDatabase(backend, async (database) => {
        const total = 40;
        let opened: Store | undefined;
        const seed = async () => {
          const store = await database.open();
          opened = store;
          await store.createScan({ id: 'ev', label: undefined, graph: EMPTY_GRAPH, packages: [] });
          for (let index = 0; index < total; index++) {
            await store.enqueueJob({ name: `p${index}`, version: '1.0.0', integrity: `sha512-${index}` });
          }
        };
        const results = await runThreads<MixedResult>(
          Array.from({ length: 4 }, (_, index) => ({
            kind: 'mixed' as const,
            options: database.options,
            workerId: `thread-${index}`,
            scanId: 'ev',
            enqueues: 10,
            appends: 25,
          })),
          seed,
        );
        const store = opened;
        assert.ok(store);
        const shared = new Set(results.flatMap((result) => result.enqueued));
        assert.equal(shared.size, 1, 'concurrent enqueues of one artifact share one job');
        const claimed = results.flatMap((result) => result.claimed);
        assert.equal(claimed.length, total + 1);
        assert.equal(new Set(claimed).size, total + 1, 'no job is claimed twice');
        assert.ok(claimed.includes([...shared][0]!));
        assert.equal(await store.countJobs('running'), total + 1);
        const seqs = results.flatMap((result) => result.seqs).sort((x, y) => x - y);
        assert.deepEqual(
          seqs,
          Array.from({ length: 100 }, (_, index) => index + 1),
        );
        for (const { seqs: own } of results) {
          assert.deepEqual(
            own,
            [...own].sort((x, y) => x - y),
            'each thread sees its numbers rise',
          );
        }
        assert.equal((await store.listScanEvents('ev', 0)).length, 100);
      }));

    test('after kill -9 mid-write the log is whole and the dead worker’s job is reclaimed', () =>
      withDatabase(backend, async (database) => {
        const store = await database.open({ clock: () => Date.now() + 2000 });
        await store.createScan({ id: 'ev', label: undefined, graph: EMPTY_GRAPH, packages: [] });
        const job = await store.enqueueJob({ name: 'victim', version: '1.0.0', integrity: 'sha512-V' });
        const task: StoreWorkerTask = {
          kind: 'append-forever',
          options: database.options,
          scanId: 'ev',
          claim: true,
        };
        const child = spawn(process.execPath, [WORKER, JSON.stringify(task)], {
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let stderr = '';
        child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
        let lastSeen = 0;
        let claimed = '';
        await new Promise<void>((resolve, reject) => {
          child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
            for (const line of chunk.split('\n')) {
              if (line.startsWith('claimed ')) claimed = line.slice('claimed '.length);
              if (line.startsWith('seq ')) lastSeen = Math.max(lastSeen, Number(line.slice(4)));
            }
            if (lastSeen >= 150) resolve();
          });
          child.on('exit', (code) => reject(new Error(`child exited early (${code}): ${stderr}`)));
        });
        const exited = once(child, 'exit');
        child.kill('SIGKILL');
        await exited;
        assert.equal(claimed, job.id);
        const events = await store.listScanEvents('ev', 0);
        assert.ok(events.length >= lastSeen, `${events.length} events stored, ${lastSeen} acknowledged`);
        assert.deepEqual(
          events.map((e) => e.seq),
          Array.from({ length: events.length }, (_, index) => index + 1),
        );
        assert.equal(await store.appendScanEvent('ev', events[0]!.event), events.length + 1);
        // This store's clock is 2 s ahead: the dead worker's 1 s lease has expired.
        const reclaimed = await store.claimJob('survivor', 60_000);
        assert.equal(reclaimed?.id, job.id);
        assert.equal(reclaimed?.attempts, 2);
      }));
  });
}
