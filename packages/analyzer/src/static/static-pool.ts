// Static analysis off the caller's thread: a few worker threads (./static-worker.ts) share the
// artifacts. Unpacking, decoding and scanning every file of a tarball is CPU work — seconds for the
// largest packages, ~8 s for a 570-package lockfile — and on the server's event loop it held up
// everything else there: downloads, the sandbox's host side, HTTP. A worker that dies (out of memory
// on a hostile tarball: each has a heap limit) fails only the analyses it held — an error, never a
// report — and the next analysis gets a fresh worker.
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { AnalyzeStaticInput, ExtractedTree } from './analyze-static.js';
import { packumentForStatic } from './metadata.js';
import type { StaticReport } from './types.js';

export interface StaticPoolOptions {
  /** Worker threads. Default: the machine's cores, at most 4. */
  workers?: number;
  /** Analyses one worker runs at once (they overlap the extraction's file-system waits). Default 4. */
  perWorker?: number;
  /** Each worker's old-generation heap limit, MiB. Default 1536. */
  heapMb?: number;
  /** Each worker's young generation, MiB (V8's default for a worker is larger). Default 16. */
  youngMb?: number;
}

export interface StaticResult {
  report: StaticReport;
  /** The files left in `dir` (analyzeStaticInto); undefined without a `dir` or when extraction failed. */
  tree: ExtractedTree | undefined;
}

export interface StaticPool {
  /** analyzeStaticInto on a worker thread. */
  analyze(input: AnalyzeStaticInput, dir?: string): Promise<StaticResult>;
  /** Ends the workers; analyses still running fail. */
  close(): Promise<void>;
}

interface Pending {
  resolve: (result: StaticResult) => void;
  reject: (error: Error) => void;
}

interface Slot {
  worker: Worker;
  pending: Map<number, Pending>;
}

const WORKER_URL = new URL('./static-worker.js', import.meta.url);

export function createStaticPool(options: StaticPoolOptions = {}): StaticPool {
  const size = Math.max(1, options.workers ?? Math.min(4, availableParallelism()));
  const perWorker = Math.max(1, options.perWorker ?? 4);
  const heapMb = options.heapMb ?? 1536;
  const youngMb = options.youngMb ?? 16;
  const slots: (Slot | undefined)[] = Array.from({ length: size }, () => undefined);
  const queue: { id: number; input: AnalyzeStaticInput; dir: string | undefined; pending: Pending }[] = [];
  let nextId = 0;
  let closed = false;

  const start = (index: number): Slot => {
    const worker = new Worker(WORKER_URL, {
      resourceLimits: { maxOldGenerationSizeMb: heapMb, maxYoungGenerationSizeMb: youngMb },
    });
    const slot: Slot = { worker, pending: new Map() };
    worker.on('message', (message: StaticResult & { id: number }) => {
      const pending = slot.pending.get(message.id);
      slot.pending.delete(message.id);
      pending?.resolve({ report: message.report, tree: message.tree });
      settle(index);
    });
    const fail = (error: Error): void => {
      if (slots[index] === slot) slots[index] = undefined;
      const failed = [...slot.pending.values()];
      slot.pending.clear();
      for (const pending of failed) pending.reject(error);
      dispatch();
    };
    worker.on('error', (error) => fail(new Error(`static analysis worker failed: ${error.message}`)));
    worker.on('exit', (code) => fail(new Error(`static analysis worker exited (code ${code})`)));
    worker.unref();
    slots[index] = slot;
    return slot;
  };

  // An idle worker does not keep the process alive; a busy one does.
  const settle = (index: number): void => {
    const slot = slots[index];
    if (slot && slot.pending.size === 0) slot.worker.unref();
    dispatch();
  };

  const dispatch = (): void => {
    while (queue.length > 0 && !closed) {
      let best = -1;
      for (let i = 0; i < size; i++) {
        const load = slots[i]?.pending.size ?? 0;
        if (load < perWorker && (best < 0 || load < (slots[best]?.pending.size ?? 0))) best = i;
      }
      if (best < 0) return;
      const job = queue.shift();
      if (!job) return;
      const slot = slots[best] ?? start(best);
      slot.pending.set(job.id, job.pending);
      slot.worker.ref();
      slot.worker.postMessage({
        id: job.id,
        input: job.input,
        ...(job.dir !== undefined ? { dir: job.dir } : {}),
      });
    }
  };

  return {
    analyze(input, dir) {
      if (closed) return Promise.reject(new Error('the static analysis pool is closed'));
      return new Promise<StaticResult>((resolve, reject) => {
        // Only what the analysis reads of the packument crosses to the worker (a copy is made).
        const sent = { ...input, packument: packumentForStatic(input.packument, input.version) };
        queue.push({ id: nextId++, input: sent, dir, pending: { resolve, reject } });
        dispatch();
      });
    },
    async close() {
      closed = true;
      for (const job of queue.splice(0)) job.pending.reject(new Error('the static analysis pool is closed'));
      await Promise.all(slots.map((slot) => slot?.worker.terminate()));
    },
  };
}
