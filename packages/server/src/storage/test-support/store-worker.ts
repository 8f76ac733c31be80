/**
 * A worker thread (or child process) with its own store on a shared database, so tests exercise
 * separate connections: on SQLite, separate `DatabaseSync` handles on one file.
 *
 * As a worker thread: `workerData` is a `mixed` task; it posts 'loaded', waits for a message to
 * open its store (all threads at once), posts 'ready', waits for 'go', then enqueues, claims and
 * appends at once with the other threads, and posts a `MixedResult`. As a child process (`node store-worker.js '<json task>'`): task
 * `append-forever` appends events and prints each sequence number until it is killed.
 */
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { once } from 'node:events';
import { createStore, type CreateStoreOptions } from '../index.js';
import { stateEvent } from './fixtures.js';
import { JobDispatcher } from '../../scheduler/job-dispatcher.js';

export type StoreWorkerTask =
  | {
      kind: 'mixed';
      options: CreateStoreOptions;
      workerId: string;
      scanId: string;
      enqueues: number;
      appends: number;
    }
  | { kind: 'append-forever'; options: CreateStoreOptions; scanId: string; claim: boolean }
  | { kind: 'dispatch-forever'; options: CreateStoreOptions; leaseMs: number };

export interface MixedResult {
  /** Ids returned by concurrent enqueues of one shared artifact. */
  enqueued: string[];
  /** Ids of the jobs this thread claimed, until none was left. */
  claimed: string[];
  /** Sequence numbers of this thread's appends, in order. */
  seqs: number[];
}

async function runThread(
  task: Extract<StoreWorkerTask, { kind: 'mixed' }>,
  port: NonNullable<typeof parentPort>,
) {
  port.postMessage('loaded');
  await once(port, 'message');
  const store = await createStore(task.options);
  try {
    port.postMessage('ready');
    await once(port, 'message');
    const jobs = await Promise.all(
      Array.from({ length: task.enqueues }, () =>
        store.enqueueJob({ name: 'shared', version: '1.0.0', integrity: 'sha512-SHARED' }),
      ),
    );
    const claimed: string[] = [];
    for (;;) {
      const job = await store.claimJob(task.workerId, 60_000);
      if (!job) break;
      claimed.push(job.id);
    }
    const seqs: number[] = [];
    for (let index = 0; index < task.appends; index++) {
      seqs.push(await store.appendScanEvent(task.scanId, stateEvent(`${task.workerId}-${index}`, index)));
    }
    const result: MixedResult = { enqueued: jobs.map((job) => job.id), claimed, seqs };
    port.postMessage(result);
  } finally {
    await store.close();
  }
}

async function runForever(task: Extract<StoreWorkerTask, { kind: 'append-forever' }>): Promise<never> {
  const store = await createStore(task.options);
  if (task.claim) {
    const job = await store.claimJob('doomed', 1000);
    process.stdout.write(`claimed ${job?.id ?? 'none'}\n`);
  }
  for (let index = 0; ; index++) {
    const seq = await store.appendScanEvent(task.scanId, stateEvent(`k${index}`, index));
    process.stdout.write(`seq ${seq}\n`);
  }
}

/** A dispatcher whose jobs never finish (their leases renewed), printing each claimed job id. */
async function dispatchForever(task: Extract<StoreWorkerTask, { kind: 'dispatch-forever' }>): Promise<void> {
  const store = await createStore(task.options);
  const dispatcher = new JobDispatcher({
    store,
    capacity: 4,
    leaseMs: task.leaseMs,
    idlePollMs: 50,
    handle: (job) => {
      process.stdout.write(`claimed ${job.id}\n`);
      return new Promise(() => undefined);
    },
  });
  await dispatcher.start();
}

if (!isMainThread && parentPort) {
  await runThread(workerData as Extract<StoreWorkerTask, { kind: 'mixed' }>, parentPort);
} else if (process.argv[2]) {
  const task = JSON.parse(process.argv[2]) as Exclude<StoreWorkerTask, { kind: 'mixed' }>;
  if (task.kind === 'dispatch-forever') await dispatchForever(task);
  else await runForever(task);
}
