import type { ArtifactKey, JobRecord, Store } from '../storage/store.js';

export type QueuedArtifact = ArtifactKey & { resolved?: string | undefined };

/**
 * "Queue an analysis": the one way to ask for an artifact's analysis (scan submission and
 * reconcile, the MCP `check_package` tool, vet-on-demand). Identical artifacts share one job; the
 * dispatcher is woken at once (other replicas by the store's notification).
 */
export interface AnalysisQueue {
  /**
   * `unlessDoneSince`: not for an artifact whose job finished `done` at or after that time (its
   * decision is recorded and applied; see `Store.enqueueJob`).
   */
  queueAnalysis(
    artifacts: readonly QueuedArtifact[],
    options?: { unlessDoneSince?: string | undefined },
  ): Promise<JobRecord[]>;
}

export function createAnalysisQueue(deps: {
  store: Pick<Store, 'enqueueJob'>;
  /** Wakes this process's dispatcher. */
  wake?: (() => void) | undefined;
}): AnalysisQueue {
  return {
    async queueAnalysis(artifacts, options) {
      const jobs: JobRecord[] = [];
      for (const artifact of artifacts) jobs.push(await deps.store.enqueueJob(artifact, options));
      if (jobs.length > 0) deps.wake?.();
      return jobs;
    },
  };
}
