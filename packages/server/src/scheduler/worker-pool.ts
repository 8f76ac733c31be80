import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { JobRecord, Store } from '../storage/store.js';

export interface WorkerPoolOptions {
  store: Store;
  concurrency: number;
  /** Lease of a claimed job; renewed every third of it while the job runs. */
  leaseMs: number;
  /** How often an idle worker looks at the queue without being woken. */
  idlePollMs?: number;
  handle(job: JobRecord, signal: AbortSignal): Promise<void>;
  onError?(error: unknown, job: JobRecord | undefined): void;
}

/**
 * `concurrency` loops that claim jobs from the durable queue with a lease, renew the lease while
 * the job runs and abort the job when the lease is lost. Jobs of a stopped pool stay claimed until
 * their lease expires; then any pool (after a restart, too) reclaims them.
 */
export class WorkerPool {
  readonly workerId = `${hostname()}-${process.pid}-${randomBytes(4).toString('hex')}`;
  private readonly controller = new AbortController();
  private readonly loops: Promise<void>[] = [];
  private waiters: (() => void)[] = [];
  private running = 0;

  constructor(private readonly options: WorkerPoolOptions) {}

  start(): void {
    for (let i = 0; i < this.options.concurrency; i++) this.loops.push(this.loop(`${this.workerId}-${i}`));
  }

  /** Wakes idle workers (new jobs were enqueued). */
  wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }

  get activeJobs(): number {
    return this.running;
  }

  async close(): Promise<void> {
    this.controller.abort();
    this.wake();
    await Promise.all(this.loops);
  }

  private async loop(workerId: string): Promise<void> {
    const stop = this.controller.signal;
    while (!stop.aborted) {
      let job: JobRecord | undefined;
      try {
        job = await this.options.store.claimJob(workerId, this.options.leaseMs);
      } catch (error) {
        if (stop.aborted) return;
        this.options.onError?.(error, undefined);
      }
      if (!job) {
        await this.idle();
        continue;
      }
      this.running++;
      try {
        await this.runLeased(job, workerId);
      } catch (error) {
        if (!stop.aborted) this.options.onError?.(error, job);
      } finally {
        this.running--;
      }
    }
  }

  private async runLeased(job: JobRecord, workerId: string): Promise<void> {
    const { store, leaseMs } = this.options;
    const jobController = new AbortController();
    const onStop = (): void => jobController.abort(this.controller.signal.reason);
    this.controller.signal.addEventListener('abort', onStop, { once: true });
    const timer = setInterval(
      () => {
        store.renewJob(job.id, workerId, leaseMs).then(
          (held) => {
            if (!held) jobController.abort(new Error(`lost the lease on job ${job.id}`));
          },
          (error: unknown) => this.options.onError?.(error, job),
        );
      },
      Math.max(50, Math.floor(leaseMs / 3)),
    );
    try {
      await this.options.handle(job, jobController.signal);
    } finally {
      clearInterval(timer);
      this.controller.signal.removeEventListener('abort', onStop);
    }
  }

  private idle(): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.waiters = this.waiters.filter((waiter) => waiter !== done);
        resolve();
      };
      const timer = setTimeout(done, this.options.idlePollMs ?? 1000);
      this.waiters.push(done);
    });
  }
}
