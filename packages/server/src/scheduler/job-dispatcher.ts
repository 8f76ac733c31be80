import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { JobRecord, Store } from '../storage/store.js';
import { isDiskFull } from '../storage/disk-space.js';

export interface JobDispatcherOptions {
  store: Store;
  /** Jobs in flight at most (a bound, not a number of loops). */
  capacity: number;
  /** Lease of a claimed job; every held lease is renewed every third of it while its work runs. */
  leaseMs: number;
  /**
   * How often an idle dispatcher looks at the queue without being woken, to reclaim the jobs of a
   * dead worker (whose lease expired). Default: half the lease, at least 1 s.
   */
  idlePollMs?: number;
  /**
   * How long a job whose handler failed waits in the queue before it is claimed again (default: the
   * lease). A disk-full failure does not count as a claim (../storage/disk-space.ts).
   */
  retryDelayMs?: number;
  handle(job: JobRecord, signal: AbortSignal): Promise<void>;
  onError?(error: unknown, job: JobRecord | undefined): void;
}

interface InFlight {
  job: JobRecord;
  controller: AbortController;
}

/**
 * Claims jobs from the durable queue in batches (`claimJobs(n)`, n = free capacity) and runs them
 * concurrently up to `capacity`. It sleeps while idle: woken by `wake()` (jobs queued in this
 * process), by the store's job notifications (PostgreSQL LISTEN/NOTIFY: another replica queued
 * jobs) and by a slow poll that reclaims dead workers' jobs. One heartbeat renews the leases of
 * every job in flight in one statement; a job whose lease was lost (reclaimed elsewhere) is
 * aborted. Jobs of a stopped dispatcher stay claimed until their lease expires; then any
 * dispatcher (this process after a restart, or another replica) reclaims them. A job whose handler
 * failed (a full disk, a database error) goes back to the queue for a later claim instead of
 * staying `running` in this worker's name; while even that cannot be written, it is tried again at
 * every heartbeat.
 */
export class JobDispatcher {
  readonly workerId = `${hostname()}-${process.pid}-${randomBytes(4).toString('hex')}`;
  private readonly stop = new AbortController();
  private readonly inFlight = new Map<string, InFlight>();
  private readonly settled = new Set<Promise<void>>();
  /** Jobs whose handler failed and whose release failed too (a full database): tried again each heartbeat. */
  private readonly unreleased = new Map<string, { error: string; uncount: boolean }>();
  private wakeUp: (() => void) | undefined;
  /** A wake-up arrived while claiming: claim again before sleeping. */
  private pending = true;
  private pump: Promise<void> | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private unwatch: (() => Promise<void>) | undefined;

  constructor(private readonly options: JobDispatcherOptions) {
    if (!Number.isInteger(options.capacity) || options.capacity < 1) {
      throw new RangeError(`capacity must be a positive integer, got ${options.capacity}`);
    }
  }

  async start(): Promise<void> {
    this.unwatch = await this.options.store.watchJobs(
      () => this.wake(),
      (error) => this.options.onError?.(error, undefined),
    );
    this.heartbeat = setInterval(
      () => void this.renewLeases(),
      Math.max(50, Math.floor(this.options.leaseMs / 3)),
    );
    this.pump = this.run();
  }

  /** Jobs were queued (or capacity was freed): look at the queue now. */
  wake(): void {
    this.pending = true;
    this.wakeUp?.();
  }

  get activeJobs(): number {
    return this.inFlight.size;
  }

  async close(): Promise<void> {
    this.stop.abort();
    this.wake();
    clearInterval(this.heartbeat);
    for (const { controller } of this.inFlight.values()) controller.abort(this.stop.signal.reason);
    await this.pump;
    await Promise.all(this.settled);
    await this.unwatch?.();
  }

  private async run(): Promise<void> {
    const stop = this.stop.signal;
    while (!stop.aborted) {
      const free = this.options.capacity - this.inFlight.size;
      if (free > 0 && this.pending) {
        this.pending = false;
        let jobs: JobRecord[] = [];
        try {
          jobs = await this.options.store.claimJobs(this.workerId, free, this.options.leaseMs);
        } catch (error) {
          if (stop.aborted) return;
          this.options.onError?.(error, undefined);
        }
        for (const job of jobs) this.launch(job);
        // A full batch: there may be more waiting.
        if (jobs.length === free) this.pending = true;
        if (this.pending) continue;
      }
      await this.sleep(free > 0);
    }
  }

  private launch(job: JobRecord): void {
    const controller = new AbortController();
    this.inFlight.set(job.id, { job, controller });
    const done: Promise<void> = Promise.resolve()
      .then(() => this.options.handle(job, controller.signal))
      .catch(async (error: unknown) => {
        if (this.stop.signal.aborted || controller.signal.aborted) return;
        this.options.onError?.(error, job);
        await this.release(job.id, { error: String(error), uncount: isDiskFull(error) });
      })
      .finally(() => {
        this.inFlight.delete(job.id);
        this.settled.delete(done);
        this.wake();
      });
    this.settled.add(done);
  }

  /** Puts a failed job back in the queue; remembered for the next heartbeat when that fails too. */
  private async release(jobId: string, failure: { error: string; uncount: boolean }): Promise<void> {
    try {
      await this.options.store.releaseJob(jobId, this.workerId, {
        delayMs: this.options.retryDelayMs ?? this.options.leaseMs,
        ...failure,
      });
      this.unreleased.delete(jobId);
    } catch (error) {
      if (!this.unreleased.has(jobId)) this.options.onError?.(error, undefined);
      this.unreleased.set(jobId, failure);
    }
  }

  /** Renews every held lease; aborts the jobs whose lease another worker took. */
  private async renewLeases(): Promise<void> {
    for (const [jobId, failure] of this.unreleased) await this.release(jobId, failure);
    const ids = [...this.inFlight.keys()];
    if (ids.length === 0 || this.stop.signal.aborted) return;
    let held: Set<string>;
    try {
      held = await this.options.store.renewJobs(this.workerId, ids, this.options.leaseMs);
    } catch (error) {
      this.options.onError?.(error, undefined);
      return;
    }
    for (const id of ids) {
      const entry = this.inFlight.get(id);
      if (entry && !held.has(id)) entry.controller.abort(new Error(`lost the lease on job ${id}`));
    }
  }

  /**
   * With free capacity: until woken or the idle poll is due (at once if a wake-up is pending).
   * Full: until a job finishes (which wakes it).
   */
  private sleep(canClaim: boolean): Promise<void> {
    return new Promise((resolve) => {
      const pollMs = this.options.idlePollMs ?? Math.max(1000, Math.floor(this.options.leaseMs / 2));
      const timer = canClaim
        ? setTimeout(() => {
            this.pending = true;
            done();
          }, pollMs)
        : undefined;
      const done = (): void => {
        clearTimeout(timer);
        this.wakeUp = undefined;
        resolve();
      };
      this.wakeUp = done;
      if ((canClaim && this.pending) || this.stop.signal.aborted) done();
    });
  }
}
