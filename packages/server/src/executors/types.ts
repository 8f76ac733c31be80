// The executor seam (issue 10): where a phase of a package runs. `local` is the sandbox on this machine
// (bubblewrap + strace, ../pipeline/dynamic-stage.ts's runs); `github` fans the runs out to GitHub
// Actions jobs (./github/). Either way a run goes in as the analyzer's `PhaseRunOptions` (the package
// and its dependency set on the host, the phase, the run variant, the time limits) and comes back as a
// `PhaseRun`: the evidence in the shared trace-event vocabulary, reduced and judged here as always.
import type {
  BatchRun,
  BatchRunOptions,
  PhaseRun,
  PhaseRunOptions,
  SandboxSupport,
} from '@secure-registry/analyzer';

export const EXECUTOR_KINDS = ['local', 'github'] as const;
export type ExecutorKind = (typeof EXECUTOR_KINDS)[number];

export interface Executor {
  readonly kind: ExecutorKind;
  /**
   * Runs one phase of one package. Never throws: a run that could not happen (the sandbox missing, a
   * remote job that failed, was cancelled or timed out) comes back with status `error` and the reason
   * (with the remote run's URL) in `error`, which holds the package (fail closed).
   */
  runPhase(options: PhaseRunOptions): Promise<PhaseRun>;
  /** Whether runs can happen at all; what is missing otherwise (checked once, at start-up). */
  checkSupport(): Promise<SandboxSupport>;
  /** Runs in flight at once unless configured otherwise. */
  readonly concurrency: number;
  /** Runs share this machine's cores: phase timeouts then scale with the runs in flight. */
  readonly sharesMachine: boolean;
  /** Import/browser phases of concurrent artifacts may share one sandbox (the phase batcher). */
  readonly batches: boolean;
  /**
   * Runs a batch — the import or browser phase of several packages in one sandbox — the analyzer's
   * `runBatch` way (when `batches`). Never throws: a batch that could not run comes back `error` with
   * every package `error` (not run), and the phase batcher runs each of them again alone.
   */
  runBatch(options: BatchRunOptions): Promise<BatchRun>;
  /** Packages per batch at most, when the executor bounds it (a remote job's size). */
  readonly maxBatch?: number;
  /** Stops what the executor keeps running (pollers, timers). */
  close(): Promise<void>;
}
