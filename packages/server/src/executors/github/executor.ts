// The github executor (issue 10): each phase run becomes one `workflow_dispatch` of the analysis
// workflow (.github/workflows/analyze-package.yml). The package and its dependency set go out as a
// signed, expiring artifact URL with its integrity; the runner (./runner.ts) runs the phase in the same
// sandbox runtime and posts the PhaseRun back signed with the analysis's key (./transfer.ts). A run that
// fails, is cancelled or times out, or a result that does not verify, is status `error` with the run's
// URL (fail closed). Only infrastructure failures are retried: API 5xx/network errors and rate limits
// (./api.ts), and a dispatch GitHub did not accept for those reasons.
import { setTimeout as sleep } from 'node:timers/promises';
import type { PhaseRun, PhaseRunOptions, SandboxSupport } from '@secure-registry/analyzer';
import type { Executor } from '../types.js';
import { GitHubApiError } from './api.js';
import type { DispatchResponse, WorkflowRun, GitHubApi } from './api.js';
import { packBundle } from './bundle.js';
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

  async function runOnce(run: PhaseRunOptions, startedAt: number): Promise<PhaseRun> {
    const deadline = startedAt + options.runTimeoutMs;
    const offer = options.transfer.offer(await packBundle(run));
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
            phase: run.phase,
            limits: JSON.stringify({
              timeoutMs: run.timeoutMs,
              graceMs: run.graceMs,
              memoryMb: run.memoryMb,
              maxProcesses: run.maxProcesses,
            }),
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
          return errorRun(
            run,
            `GitHub Actions run timed out after ${options.runTimeoutMs} ms: ${runUrl}`,
            startedAt,
          );
        const arrived = await Promise.race([
          result,
          sleep(Math.min(statusInterval(), remaining)).then(() => undefined),
        ]);
        if (arrived) {
          const phaseRun = parseResult(arrived.body, offer.id);
          return { ...phaseRun, details: [...phaseRun.details, `GitHub Actions run: ${runUrl}`] };
        }
        const { body: status } = await options.api.request<WorkflowRun>(
          'GET',
          `${base}/actions/runs/${runId}`,
        );
        runUrl = status.html_url ?? runUrl;
        if (status.status === 'completed') {
          // The result is posted before the job ends; give a late POST one more poll interval.
          const late = await Promise.race([result, sleep(Math.min(pollMs, 2000)).then(() => undefined)]);
          if (late) {
            const phaseRun = parseResult(late.body, offer.id);
            return { ...phaseRun, details: [...phaseRun.details, `GitHub Actions run: ${runUrl}`] };
          }
          return errorRun(
            run,
            `GitHub Actions run ended ${status.conclusion ?? 'without a conclusion'} and sent no result: ${runUrl}`,
            startedAt,
          );
        }
      }
    } finally {
      inFlight--;
      options.transfer.release(offer.id);
    }
  }

  return {
    kind: 'github',
    transfer: options.transfer,
    concurrency: options.maxJobs,
    sharesMachine: false,
    batches: false,
    async runPhase(run) {
      const startedAt = Date.now();
      await jobs.acquire();
      try {
        for (let attempt = 1; ; attempt++) {
          try {
            return await runOnce(run, startedAt);
          } catch (error) {
            const infrastructure =
              error instanceof GitHubApiError && (error.status === 0 || error.status >= 500);
            if (
              infrastructure &&
              attempt < 3 &&
              !closing.signal.aborted &&
              Date.now() < startedAt + options.runTimeoutMs
            )
              continue;
            return errorRun(run, `GitHub executor: ${(error as Error).message}`, startedAt);
          }
        }
      } finally {
        jobs.release();
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
