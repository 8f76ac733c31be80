// The github executor (issue 10): each phase run — or, for the import and browser phases, each batch of
// up to `maxBatch` packages (the phase batcher's, ../../pipeline/phase-batcher.ts) — becomes one
// `workflow_dispatch` of the analysis workflow (.github/workflows/analyze-package.yml). The package and its dependency set go out as a
// signed, expiring artifact URL with its integrity; the runner (./runner.ts) runs the phase in the same
// sandbox runtime and posts the PhaseRun back signed with the analysis's key (./transfer.ts). A run that
// fails, is cancelled or times out, or a result that does not verify, is status `error` with the run's
// URL (fail closed). Only infrastructure failures are retried: API 5xx/network errors and rate limits
// (./api.ts), and a dispatch GitHub did not accept for those reasons.
import { setTimeout as sleep } from 'node:timers/promises';
import { batchIsolation, batchLimitMs, batchNotRun } from '@secure-registry/analyzer';
import type {
  BatchRun,
  BatchRunOptions,
  PhaseRun,
  PhaseRunOptions,
  SandboxSupport,
} from '@secure-registry/analyzer';
import type { Executor } from '../types.js';
import { GitHubApiError } from './api.js';
import type { DispatchResponse, WorkflowRun, GitHubApi } from './api.js';
import { packBatchBundle, packBundle } from './bundle.js';
import type { WireBatchRun } from './runner.js';
import type { Transfer } from './transfer.js';

export interface GithubExecutorOptions {
  api: GitHubApi;
  /** owner/name of the analysis repository. */
  repository: string;
  /** Workflow file name or id. */
  workflow: string;
  /** Branch the workflow is dispatched on. Default main. */
  ref?: string;
  transfer: Transfer;
  /** Jobs in flight at once (SR_GITHUB_MAX_JOBS). */
  maxJobs: number;
  /**
   * Packages per job for the import and browser phases (SR_GITHUB_BATCH): that many run together in
   * one sandbox on one runner (the analyzer's runBatch), with the local batcher's attribution and
   * re-run-alone rules (../../pipeline/phase-batcher.ts). 1: one job per package phase. Default 1.
   */
  maxBatch?: number;
  /** Longest a run may take from dispatch to result, queueing included. */
  runTimeoutMs: number;
  /** Between run-status polls of one run, at least. Default 5 000. */
  pollMs?: number;
  /**
   * Status polls of all runs in flight together come at most once per this many ms on average: a
   * run's poll interval grows with the runs in flight. Results arrive by POST, so polls only catch a
   * run that ends without one; GitHub allows a token 5,000 requests an hour. Default 1 000 (3,600 an
   * hour however many runs are in flight; at K = 100, each run is looked at every 100 s).
   */
  pollSpacingMs?: number;
}

/** One workflow run: what it carries and how long it may take from dispatch to result. */
interface Job {
  pack(): Promise<Buffer>;
  phase: string;
  limits: Record<string, number | undefined>;
  timeoutMs: number;
}

/** A job's end: the verified result body, or why there is none (with the run's URL when known). */
type JobOutcome = { body: Buffer; id: string; runUrl: string } | { error: string };

class Semaphore {
  #free: number;
  readonly #waiting: (() => void)[] = [];
  constructor(size: number) {
    this.#free = size;
  }
  async acquire(): Promise<void> {
    if (this.#free > 0) {
      this.#free--;
      return;
    }
    await new Promise<void>((resolve) => this.#waiting.push(resolve));
  }
  release(): void {
    const next = this.#waiting.shift();
    if (next) next();
    else this.#free++;
  }
}

function errorRun(options: PhaseRunOptions, error: string, startedAt: number): PhaseRun {
  return {
    status: 'error',
    error,
    durationMs: Date.now() - startedAt,
    events: [],
    honeytokens: [],
    home: '',
    projectDir: '',
    packageDir: options.packageDir,
    details: [],
  };
}

const PHASE_RUN_STATUSES = new Set(['completed', 'timeout', 'crashed', 'error']);

/** The runner's result document: `{ analysisId, run }`, checked for shape before it is believed. */
export function parseResult(body: Buffer, analysisId: string): PhaseRun {
  const parsed = JSON.parse(body.toString('utf8')) as { analysisId?: unknown; run?: Partial<PhaseRun> };
  if (parsed.analysisId !== analysisId) throw new Error('result is for another analysis');
  const run = parsed.run;
  if (
    !run ||
    !PHASE_RUN_STATUSES.has(String(run.status)) ||
    !Array.isArray(run.events) ||
    !Array.isArray(run.details)
  )
    throw new Error('result is not a phase run');
  return run as PhaseRun;
}

/**
 * A batch whose job failed, was cancelled, timed out or sent a result that does not verify: no package
 * in it ran as far as the server can tell (status `error`, fail closed); the phase batcher runs each
 * again alone and holds it if that fails too.
 */
export function failedBatch(batch: BatchRunOptions, error: string, startedAt: number): BatchRun {
  return batchNotRun(batch, error, Date.now() - startedAt, [error]);
}

/**
 * The runner's batch result: `{ analysisId, batch }`, one package run per package sent, in the order
 * sent, each checked for shape before it is believed.
 */
export function parseBatchResult(body: Buffer, analysisId: string, sent: BatchRunOptions): WireBatchRun {
  const parsed = JSON.parse(body.toString('utf8')) as { analysisId?: unknown; batch?: Partial<WireBatchRun> };
  if (parsed.analysisId !== analysisId) throw new Error('result is for another analysis');
  const batch = parsed.batch;
  if (
    !batch ||
    !PHASE_RUN_STATUSES.has(String(batch.status)) ||
    !Array.isArray(batch.packages) ||
    !Array.isArray(batch.ambiguous) ||
    !Array.isArray(batch.details) ||
    batch.packages.length !== sent.packages.length
  )
    throw new Error('result is not a batch run of the packages sent');
  batch.packages.forEach((p, i) => {
    const want = sent.packages[i]!;
    if (
      p.id !== `${want.name}@${want.version}` ||
      !PHASE_RUN_STATUSES.has(String(p.status)) ||
      !Array.isArray(p.events) ||
      !Array.isArray(p.ambiguousSeqs) ||
      !Array.isArray(p.sharedWith) ||
      !Array.isArray(p.details) ||
      typeof p.needsIsolation !== 'boolean' ||
      typeof p.ran !== 'boolean'
    )
      throw new Error(`result's package ${i} is not a run of ${want.name}@${want.version}`);
  });
  return batch as WireBatchRun;
}

export interface GithubExecutor extends Executor {
  /** The artifacts and results of runs in flight; the server serves them (./routes.ts). */
  readonly transfer: Transfer;
}

export function createGithubExecutor(options: GithubExecutorOptions): GithubExecutor {
  const [owner, repo] = options.repository.split('/');
  const base = `/repos/${owner}/${repo}`;
  const jobs = new Semaphore(options.maxJobs);
  const closing = new AbortController();
  const pollMs = options.pollMs ?? 5000;
  const pollSpacingMs = options.pollSpacingMs ?? 1000;
  let inFlight = 0;
  /** This run's interval between status polls, spread over the runs in flight. */
  const statusInterval = (): number => Math.max(pollMs, inFlight * pollSpacingMs);

  async function findRunByName(runName: string, deadline: number): Promise<WorkflowRun> {
    while (Date.now() < deadline) {
      const { body } = await options.api.request<{ workflow_runs: WorkflowRun[] }>(
        'GET',
        `${base}/actions/workflows/${options.workflow}/runs?event=workflow_dispatch&per_page=100`,
      );
      const run = body.workflow_runs.find((r) => r.name === runName);
      if (run) return run;
      await sleep(Math.min(pollMs, 2000));
    }
    throw new Error(`the dispatched run "${runName}" did not appear in the workflow's runs`);
  }

  /**
   * One workflow run carrying `bytes`: dispatched, then waited for until its signed result arrives
   * (the body) or it ends without one, times out or fails (an error naming the run's URL). Throws
   * GitHubApiError for the API's own failures (the caller retries infrastructure errors).
   */
  async function dispatchOnce(job: Job, startedAt: number): Promise<JobOutcome> {
    const deadline = startedAt + job.timeoutMs;
    const offer = options.transfer.offer(await job.pack(), job.timeoutMs);
    const runName = `analyze ${offer.id}`;
    let runUrl: string | undefined;
    inFlight++;
    try {
      const dispatched = await options.api.request<DispatchResponse | undefined>(
        'POST',
        `${base}/actions/workflows/${options.workflow}/dispatches`,
        {
          ref: options.ref ?? 'main',
          return_run_details: true,
          inputs: {
            analysis_id: offer.id,
            artifact_url: offer.url,
            integrity: offer.integrity,
            phase: job.phase,
            limits: JSON.stringify(job.limits),
          },
        },
      );
      let runId = dispatched.body?.workflow_run_id;
      runUrl = dispatched.body?.html_url;
      if (runId === undefined) {
        const found = await findRunByName(runName, deadline);
        runId = found.id;
        runUrl = found.html_url;
      }
      const result = offer.result.then((body) => ({ body }));
      for (;;) {
        const remaining = deadline - Date.now();
        if (remaining <= 0)
          return { error: `GitHub Actions run timed out after ${job.timeoutMs} ms: ${runUrl}` };
        const arrived = await Promise.race([
          result,
          sleep(Math.min(statusInterval(), remaining)).then(() => undefined),
        ]);
        if (arrived) return { body: arrived.body, id: offer.id, runUrl: String(runUrl) };
        const { body: status } = await options.api.request<WorkflowRun>(
          'GET',
          `${base}/actions/runs/${runId}`,
        );
        runUrl = status.html_url ?? runUrl;
        if (status.status === 'completed') {
          // The result is posted before the job ends; give a late POST one more poll interval.
          const late = await Promise.race([result, sleep(Math.min(pollMs, 2000)).then(() => undefined)]);
          if (late) return { body: late.body, id: offer.id, runUrl: String(runUrl) };
          return {
            error: `GitHub Actions run ended ${status.conclusion ?? 'without a conclusion'} and sent no result: ${runUrl}`,
          };
        }
      }
    } finally {
      inFlight--;
      options.transfer.release(offer.id);
    }
  }

  /** A job within the bound of jobs in flight, retried for infrastructure failures only. */
  async function runJob(job: Job, startedAt: number): Promise<JobOutcome> {
    await jobs.acquire();
    try {
      for (let attempt = 1; ; attempt++) {
        try {
          return await dispatchOnce(job, startedAt);
        } catch (error) {
          const infrastructure =
            error instanceof GitHubApiError && (error.status === 0 || error.status >= 500);
          if (
            infrastructure &&
            attempt < 3 &&
            !closing.signal.aborted &&
            Date.now() < startedAt + job.timeoutMs
          )
            continue;
          return { error: `GitHub executor: ${(error as Error).message}` };
        }
      }
    } finally {
      jobs.release();
    }
  }

  return {
    kind: 'github',
    transfer: options.transfer,
    concurrency: options.maxJobs,
    sharesMachine: false,
    batches: (options.maxBatch ?? 1) > 1,
    maxBatch: options.maxBatch ?? 1,
    async runPhase(run) {
      const startedAt = Date.now();
      const outcome = await runJob(
        {
          pack: () => packBundle(run),
          phase: run.phase,
          limits: {
            timeoutMs: run.timeoutMs,
            graceMs: run.graceMs,
            memoryMb: run.memoryMb,
            maxProcesses: run.maxProcesses,
          },
          timeoutMs: options.runTimeoutMs,
        },
        startedAt,
      );
      if ('error' in outcome) return errorRun(run, outcome.error, startedAt);
      try {
        const phaseRun = parseResult(outcome.body, outcome.id);
        return { ...phaseRun, details: [...phaseRun.details, `GitHub Actions run: ${outcome.runUrl}`] };
      } catch (error) {
        return errorRun(run, `GitHub executor: ${(error as Error).message}: ${outcome.runUrl}`, startedAt);
      }
    },
    async runBatch(batch) {
      const startedAt = Date.now();
      const outcome = await runJob(
        {
          pack: () => packBatchBundle(batch),
          phase: batch.phase,
          limits: {
            packages: batch.packages.length,
            timeoutMs: batch.timeoutMs,
            batchTimeoutMs: batch.batchTimeoutMs,
            graceMs: batch.graceMs,
            memoryMb: batch.memoryMb,
            maxProcesses: batch.maxProcesses,
          },
          // The batch's own limit comes on top of queueing and start-up.
          timeoutMs: options.runTimeoutMs + batchLimitMs(batch),
        },
        startedAt,
      );
      if ('error' in outcome) return failedBatch(batch, outcome.error, startedAt);
      try {
        const wire = parseBatchResult(outcome.body, outcome.id, batch);
        return {
          ...wire,
          details: [...wire.details, `GitHub Actions run: ${outcome.runUrl}`],
          isolate: batchIsolation(batch),
        };
      } catch (error) {
        return failedBatch(
          batch,
          `GitHub executor: ${(error as Error).message}: ${outcome.runUrl}`,
          startedAt,
        );
      }
    },
    async checkSupport(): Promise<SandboxSupport> {
      try {
        await options.api.request('GET', `${base}/actions/workflows/${options.workflow}`);
        return {
          ok: true,
          missing: [],
          details: [`github: ${options.repository} workflow ${options.workflow}`],
        };
      } catch (error) {
        return {
          ok: false,
          missing: [`GitHub workflow ${options.repository}/${options.workflow}`],
          details: [(error as Error).message],
        };
      }
    },
    async close() {
      closing.abort();
    },
  };
}
