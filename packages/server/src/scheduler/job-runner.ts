import { setTimeout as delay } from 'node:timers/promises';
import { INFRASTRUCTURE_RULES } from '@secure-registry/shared';
import type { ArtifactKey, ArtifactRecord, JobRecord, Store } from '../storage/store.js';
import type { ScanService } from '../services/scan-service.js';
import { isDecided } from '../services/scan-planner.js';
import { analysisFailedDecision, runPipeline } from '../pipeline/run-pipeline.js';
import type { PipelineDeps, PipelineResult } from '../pipeline/run-pipeline.js';
import { PermanentStageError } from '../pipeline/types.js';
import { isUpstreamUnavailable } from '../upstream/registry-client.js';
import { DiskFullError, isDiskFull } from '../storage/disk-space.js';
import { shouldInvestigate } from '../reviewers/llm-reviewer.js';
import type { ArtifactReviewer } from '../reviewers/llm-reviewer.js';
import { inPhase, phaseProgress } from '../pipeline/phase-events.js';
import type { PhaseProgressSink } from '../pipeline/phase-events.js';

export interface RetryPolicy {
  /** Attempts of the stages within one claim of the job. */
  attempts: number;
  /** Delay before the second attempt; doubled for each further one. */
  baseDelayMs: number;
  /** Claims after which a job that keeps dying with its worker is given up (held for review). */
  maxClaims: number;
}

/** Findings of an analysis that did not finish: the job is recorded as failed. */
const FAILURE_RULES = new Set(['analysis-failed', ...INFRASTRUCTURE_RULES]);

export const DEFAULT_RETRY: RetryPolicy = { attempts: 3, baseDelayMs: 500, maxClaims: 5 };

export interface JobRunnerDeps {
  store: Store;
  scans: ScanService;
  pipeline: PipelineDeps;
  retry: RetryPolicy;
  log?: (message: string) => void;
  /** Looks at the stored decision and may change it (the LLM investigator, ../reviewers). */
  reviewer?: ArtifactReviewer | undefined;
  /** Told of every disk-full failure (the health check, ../storage/disk-space.ts). */
  onDiskFull?: ((error: unknown) => void) | undefined;
}

/**
 * Runs one claimed job to a decision and records it: artifact first, then every running scan
 * that contains it, then the job. A crash anywhere leaves the job running; its lease expires,
 * another claim finds the recorded decision (or redoes the work) and finishes the rest.
 *
 * A full disk is an infrastructure failure, never a verdict (issue 13 item 9): in the stages it
 * becomes an `analysis-failed` hold, which is not a decision (a later scan, the start-up and
 * `reevaluate` queue it again); when even that cannot be recorded, a `DiskFullError` is thrown and
 * the dispatcher puts the job back in the queue for later.
 */
export async function runJob(job: JobRecord, deps: JobRunnerDeps, signal: AbortSignal): Promise<void> {
  try {
    await runClaimedJob(job, deps, signal);
  } catch (error) {
    if (signal.aborted || !isDiskFull(error)) throw error;
    deps.onDiskFull?.(error);
    throw new DiskFullError(`${job.name}@${job.version}: disk full: ${String(error)}`, { cause: error });
  }
}

async function runClaimedJob(job: JobRecord, deps: JobRunnerDeps, signal: AbortSignal): Promise<void> {
  const { store, scans } = deps;
  const key = { name: job.name, version: job.version, integrity: job.integrity };
  const existing = await store.getArtifact(key);
  if (isDecided(existing)) {
    await scans.applyArtifactDecision(key, existing);
    await store.completeJob(job.id, 'done', undefined, job.workerId);
    return;
  }
  const progress = progressSink(key, deps);
  let result: PipelineResult;
  if (job.attempts > deps.retry.maxClaims) {
    result = analysisFailedDecision(
      new Error(`the analysis was interrupted ${job.attempts - 1} times (the worker stopped each time)`),
      job.attempts - 1,
      'interrupted',
    );
  } else {
    await scans.markAnalyzing(key);
    result = await runWithRetries(job, deps, signal, progress);
  }
  signal.throwIfAborted();
  const { storagePath, ...decision } = result;
  const stored = await store.upsertArtifact(key, {
    ...decision,
    ...(storagePath !== undefined ? { storagePath } : {}),
    decidedAt: new Date().toISOString(),
  });
  const reviewed = await reviewStored(stored, deps, signal, progress);
  await scans.applyArtifactDecision(key, reviewed ?? decision);
  const failed = decision.findings.find((finding) => FAILURE_RULES.has(finding.rule));
  await store.completeJob(
    job.id,
    failed ? 'failed' : 'done',
    failed ? decision.reason : undefined,
    job.workerId,
  );
}

/**
 * Publishes the artifact's analysis steps on the scans that contain it (`package.phase` events). A
 * failure to publish is logged and never stops or changes the analysis.
 */
function progressSink(key: ArtifactKey, deps: JobRunnerDeps): PhaseProgressSink {
  return async (notice) => {
    try {
      await deps.scans.publishPhase(key, phaseProgress(notice));
    } catch (error) {
      deps.log?.(`${key.name}@${key.version}: publishing the ${notice.phase} step failed: ${String(error)}`);
    }
  };
}

/** Runs the reviewer hook on a stored decision; its failure keeps the stored decision (held stays held). */
async function reviewStored(
  stored: ArtifactRecord,
  deps: JobRunnerDeps,
  signal: AbortSignal,
  progress: PhaseProgressSink,
): Promise<Pick<ArtifactRecord, 'verdict' | 'reason' | 'findings'> | undefined> {
  const { reviewer } = deps;
  if (!reviewer) return undefined;
  let patch;
  try {
    // Only what the policy sends to the investigator is shown as `investigating`.
    patch = shouldInvestigate(stored, deps.pipeline.policy.policy)
      ? await inPhase(progress, 'investigating', () => reviewer(stored, signal))
      : await reviewer(stored, signal);
  } catch (error) {
    if (signal.aborted) throw error;
    deps.log?.(`${stored.name}@${stored.version}: reviewer failed: ${String(error)}`);
    return undefined;
  }
  if (!patch) return undefined;
  signal.throwIfAborted();
  const key = { name: stored.name, version: stored.version, integrity: stored.integrity };
  const updated = await deps.store.upsertArtifact(key, patch);
  return { verdict: updated.verdict, reason: updated.reason, findings: updated.findings };
}

async function runWithRetries(
  job: JobRecord,
  deps: JobRunnerDeps,
  signal: AbortSignal,
  progress: PhaseProgressSink,
): Promise<PipelineResult> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await runPipeline(job, deps.pipeline, signal, progress);
    } catch (error) {
      if (signal.aborted) throw error;
      deps.log?.(`${job.name}@${job.version}: attempt ${attempt} failed: ${String(error)}`);
      // An upstream outage: the registry client has retried already. Not a decision (13.13): the
      // artifact is analysed again by the next scan that contains it.
      if (isUpstreamUnavailable(error)) return analysisFailedDecision(error, attempt, 'infrastructure');
      if (isDiskFull(error)) {
        // Retrying at once cannot help; held as "could not analyse", analysed again later.
        deps.onDiskFull?.(error);
        return analysisFailedDecision(
          new DiskFullError(
            `the disk is full (${String(error)}); analysed again by the next scan that contains it`,
          ),
          attempt,
          'storage-full',
        );
      }
      if (error instanceof PermanentStageError || attempt >= deps.retry.attempts) {
        return analysisFailedDecision(error, attempt);
      }
      await delay(deps.retry.baseDelayMs * 2 ** (attempt - 1), undefined, { signal });
    }
  }
}
