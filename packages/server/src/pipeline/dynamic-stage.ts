// The dynamic stage: after the static one, the package's install, import and browser phases run in
// the honeypot sandbox; each run is reduced to a behaviour report (minus a baseline learned from a
// control package at start-up). The stage returns report pieces and judges nothing: `decide()`
// (../verdict/) judges static and behaviour together.
import {
  browserEntry,
  importEntries,
  learnControlBaseline,
  lifecycleScripts,
  NATIVE_BUILD_TIMEOUT_FACTOR,
  runsNodeGyp,
  type Baseline,
  type ControlBaseline,
  type EnvironmentVariant,
  type PhaseRun,
  type SandboxSupport,
} from '@secure-registry/analyzer';
import type {
  BehaviourReport,
  Phase,
  PhaseRecord,
  PhaseSummary,
  SandboxRecord,
  StageReports,
} from '@secure-registry/shared';
import { availableParallelism } from 'node:os';
import { createLocalExecutor } from '../executors/local.js';
import type { Executor } from '../executors/types.js';
import { behaviourFindings } from '../verdict/index.js';
import {
  dependenciesForRun,
  type DependencyInstaller,
  type RunDependencies,
} from './install-dependencies.js';
import { writePackageDir, type PackageDir } from './package-dir.js';
import { boundEvents, inPhase, type PhaseProgressSink } from './phase-events.js';
import { PhaseBatcher, reduceRun, type PhaseBatcherOptions, type PhaseOutcome } from './phase-batcher.js';
import { SandboxSlots } from './sandbox-slots.js';
import type { StaticStage } from './static-stage.js';
import { joinVariants, runVariants } from './variant-runs.js';
import type { ArtifactAnalyzer } from './types.js';

export interface DynamicStageOptions {
  /** Wall-clock limit of one phase with the machine to itself; scaled up under concurrency. Default 60 000. */
  timeoutMs?: number;
  /** How long a phase's sandbox stays up after its main process is done (delayed payloads). Default 3 000. */
  graceMs?: number;
  /** Sandbox runs at the same time. Default: the number of cores. */
  concurrency?: number;
  /** Raw events kept per phase for `query_events`. Default 1 500. */
  maxEventsPerPhase?: number;
  /** The support check (default: the executor's, run once at creation); tests replace it. */
  checkSupport?: () => Promise<SandboxSupport>;
  /**
   * Where the runs happen (../executors/): the local sandbox (default) or remote runners. An executor
   * that does not batch turns the phase batcher off; one that does not share this machine keeps timeouts unscaled.
   */
  executor?: Executor;
  /**
   * The install phase only: the package's dependencies as npm would install them
   * (./install-dependencies.ts), present in node_modules while its scripts run. Default: none.
   */
  installDependencies?: DependencyInstaller;
  /**
   * Import and browser phases of concurrently analysed artifacts run together in one sandbox
   * (./phase-batcher.ts); `false` runs each alone. Default: batched.
   */
  batch?: Pick<PhaseBatcherOptions, 'maxBatch' | 'collectMs' | 'groupSize' | 'loaders'> | false;
  /**
   * Run variants against evasion (./variant-runs.ts): DNS strict first (made-up names get NXDOMAIN) and
   * again with the names asked answered, and the install phase on a developer's laptop and on a CI
   * runner. `false`: one run per phase with every name resolving (the fake internet of old). Default: on.
   */
  variants?: boolean;
}

/** Which phases a package needs, from its manifest and file list. */
export function plannedPhases(
  manifest: Record<string, unknown> | undefined,
  files: ReadonlySet<string>,
): Phase[] {
  if (!manifest) return [];
  const isFile = (p: string): boolean => files.has(p);
  const phases: Phase[] = [];
  if (lifecycleScripts(manifest, isFile).length > 0) phases.push('install');
  if (importEntries(manifest, isFile).length > 0) phases.push('import');
  const browser = browserEntry(manifest, isFile);
  if (browser !== undefined && /\.(c|m)?js$/.test(browser)) phases.push('browser');
  return phases;
}

/** Whether the install phase compiles with node-gyp (implicitly for a binding.gyp, or by script). */
export function buildsNatively(
  manifest: Record<string, unknown> | undefined,
  files: ReadonlySet<string>,
): boolean {
  return !!manifest && lifecycleScripts(manifest, (p) => files.has(p)).some((s) => runsNodeGyp(s.script));
}

function failedReport(phase: Phase, packageId: string, error: string): BehaviourReport {
  return {
    phase,
    package: packageId,
    status: 'error',
    error,
    durationMs: 0,
    processes: [],
    files: [],
    dns: [],
    connections: [],
    http: [],
    honeytokenHits: [],
    decoys: [],
    browser: [],
  };
}

export interface DynamicStage {
  /** Runs the phases; returns a record per phase that ran and the sandbox's. */
  run(input: {
    name: string;
    version: string;
    tarball: Uint8Array;
    signal: AbortSignal;
    /** Told when each phase starts and ends, and where it runs (../pipeline/phase-events.ts). */
    progress?: PhaseProgressSink | undefined;
    /** Called once the package directory is written: the stage keeps no reference to `tarball` after. */
    admitted?: (() => void) | undefined;
    /** The package's files already extracted (the static stage's): the stage owns and removes it. */
    packageDir?: PackageDir | undefined;
  }): Promise<Pick<StageReports, Phase | 'sandbox'>>;
  /** The support check and (when supported) the control baseline, learned once on first use. */
  ready(): Promise<{ support: SandboxSupport; control: ControlBaseline | undefined }>;
}

/** Creates the stage and starts, right away, the sandbox support check. */
export function createDynamicStage(options: DynamicStageOptions = {}): DynamicStage {
  const timeoutMs = options.timeoutMs ?? 60_000;
  const graceMs = options.graceMs ?? 3_000;
  const maxEvents = options.maxEventsPerPhase ?? 1_500;
  const executor = options.executor ?? createLocalExecutor();
  const slots = new SandboxSlots(
    options.concurrency ?? executor.concurrency,
    timeoutMs,
    executor.sharesMachine ? availableParallelism() : Number.POSITIVE_INFINITY,
  );
  // The support check runs once, at creation (server start-up); the control baseline is learned on
  // the first analysis (a server that never analyses never starts a sandbox) and cached.
  const support = (options.checkSupport ?? executor.checkSupport)();
  support.catch(() => undefined);
  let state: Promise<{ support: SandboxSupport; control: ControlBaseline | undefined }> | undefined;
  let controlBaseline: Baseline | undefined;
  const ready = (): Promise<{ support: SandboxSupport; control: ControlBaseline | undefined }> =>
    (state ??= (async () => {
      const checked = await support;
      if (!checked.ok) return { support: checked, control: undefined };
      const slot = await slots.acquire();
      try {
        const control = await learnControlBaseline({
          timeoutMs: slot.timeoutMs,
          graceMs: 1_000,
          run: executor.runPhase,
          // The three at once: short runs (remote ones cost a runner's latency, not this machine's
          // cores), and every report waits for them.
          concurrent: true,
        });
        controlBaseline = control.baseline;
        return { support: checked, control };
      } finally {
        slot.release();
      }
    })());

  /** The support check's answer; a check that threw is "not supported", with why. */
  const supportChecked = (): Promise<SandboxSupport> =>
    support.catch((error: unknown) => ({
      ok: false,
      missing: [`sandbox check failed: ${String(error)}`],
      details: [],
    }));
  const readyOrFailed = () =>
    ready().catch((error: unknown) => ({
      support: { ok: false, missing: [`sandbox check failed: ${String(error)}`], details: [] },
      control: undefined,
    }));
  /** The control baseline once it is known (undefined when it could not be learned). */
  const baselineKnown = (): Promise<Baseline | undefined> => readyOrFailed().then((s) => s.control?.baseline);

  const variants = options.variants !== false;

  async function runOne(
    phase: Phase,
    input: { name: string; version: string; dir: string },
    /** Awaited once the runs are over: runs may start while the control baseline is being learned. */
    baselineOf: () => Promise<Baseline | undefined>,
    deps?: RunDependencies,
    nativeBuild = false,
  ): Promise<Omit<PhaseOutcome, 'batch'> & { batch?: PhaseOutcome['batch'] }> {
    const sandboxRun = async (variant?: {
      environment: EnvironmentVariant;
      dnsAnswers: string[];
    }): Promise<{ run: PhaseRun; timeoutMs: number }> => {
      const slot = await slots.acquire();
      const phaseTimeoutMs = slot.timeoutMs * (nativeBuild ? NATIVE_BUILD_TIMEOUT_FACTOR : 1);
      try {
        const run = await executor.runPhase({
          phase,
          packageName: input.name,
          packageVersion: input.version,
          packageDir: input.dir,
          timeoutMs: phaseTimeoutMs,
          graceMs,
          ...(deps ? { dependencies: deps.dependencies, diskMb: deps.diskMb } : {}),
          ...(variant ?? {}),
        });
        return { run, timeoutMs: phaseTimeoutMs };
      } finally {
        slot.release();
      }
    };
    if (!variants) {
      const { run, timeoutMs: phaseTimeout } = await sandboxRun();
      const baseline = await baselineOf();
      return { report: reduceRun(phase, input, run, baseline), run, timeoutMs: phaseTimeout };
    }
    // Only the install phase gets the CI environment too: lifecycle scripts are where CI checks matter.
    const environments: EnvironmentVariant[] = phase === 'install' ? ['developer', 'ci'] : ['developer'];
    const runs = await runVariants(environments, sandboxRun);
    const baseline = await baselineOf();
    return joinVariants(
      runs,
      (run) => reduceRun(phase, input, run, baseline),
      // The differential compares what the other behaviour rules make of each environment's run.
      (report) =>
        behaviourFindings({
          name: input.name,
          version: input.version,
          report,
          except: ['environment-differential'],
        }),
    );
  }

  // Import and browser phases of the artifacts analysed at the same time share sandboxes (./phase-batcher.ts).
  const batchers = new Map<Phase, PhaseBatcher>();
  if (options.batch !== false && executor.batches)
    for (const phase of ['import', 'browser'] as const)
      batchers.set(
        phase,
        new PhaseBatcher({
          phase,
          slots,
          graceMs,
          ...(executor.maxBatch !== undefined ? { maxBatch: executor.maxBatch } : {}),
          ...(options.batch ?? {}),
          // A batch's reports are reduced once it returns: not before the control baseline is known.
          run: async (batchOptions) => {
            const batch = await executor.runBatch(batchOptions);
            await baselineKnown();
            return batch;
          },
          strictDns: variants,
          baseline: () => controlBaseline,
          runAlone: async (item) => ({
            ...(await runOne(phase, item, baselineKnown)),
            batch: { size: 1 },
          }),
          notable: (report, item) =>
            behaviourFindings({ name: item.name, version: item.version, report }).some(
              (f) => f.severity !== 'info',
            ),
        }),
      );

  return {
    ready,
    // Not async: only the callback holds `input` (and with it the tarball) until the package directory
    // is written; the phases, which wait for batches, hold the directory, not the bytes.
    run(input) {
      const written = input.packageDir ? Promise.resolve(input.packageDir) : writePackageDir(input.tarball);
      return written.then((pkg) => {
        input.admitted?.();
        return runPhases(pkg, {
          name: input.name,
          version: input.version,
          signal: input.signal,
          progress: input.progress,
        });
      });
    },
  };

  async function runPhases(
    pkg: PackageDir,
    {
      name,
      version,
      signal,
      progress,
    }: { name: string; version: string; signal: AbortSignal; progress: PhaseProgressSink | undefined },
  ): Promise<Pick<StageReports, Phase | 'sandbox'>> {
    const packageId = `${name}@${version}`;
    try {
      const phases = plannedPhases(pkg.manifest, pkg.files);
      const out: Pick<StageReports, Phase | 'sandbox'> = {};
      // On this machine the control runs first (its three runs at once) and the package's runs wait
      // for it: the batches then form from everything the static stage passed meanwhile, not from the
      // first few artifacts (small batches cost a sandbox each). Elsewhere (remote runners) the
      // package's runs are dispatched while the baseline is being learned; each is reduced once it is known.
      const known = readyOrFailed();
      const support = executor.sharesMachine ? (await known).support : await supportChecked();
      // The phases are independent runs: all three at once (the install run alone, import and
      // browser in batches), so an artifact takes as long as its slowest phase, not their sum.
      const runPhaseOf = async (phase: Phase) => {
        signal.throwIfAborted();
        if (!support.ok) {
          const report = failedReport(
            phase,
            packageId,
            `sandbox unavailable: missing ${support.missing.join(', ')}`,
          );
          const record: PhaseRecord = { report, events: [], eventsOmitted: 0 };
          await progress?.({ phase, status: 'skipped', sandbox: false, detail: report.error });
          return { phase, record };
        }
        // Fetched before a sandbox slot is taken; removed as soon as the run is over.
        const deps =
          phase === 'install' && options.installDependencies
            ? await dependenciesForRun(
                options.installDependencies,
                { name, version, manifest: pkg.manifest ?? {} },
                signal,
              )
            : undefined;
        const batcher = batchers.get(phase);
        const {
          report,
          run,
          timeoutMs: phaseTimeout,
          batch,
        } = await inPhase(
          progress,
          phase,
          () =>
            batcher
              ? batcher.submit({ name, version, dir: pkg.dir })
              : runOne(
                  phase,
                  { name, version, dir: pkg.dir },
                  baselineKnown,
                  deps,
                  phase === 'install' && buildsNatively(pkg.manifest, pkg.files),
                ).finally(() => deps?.cleanup()),
          {
            where: { sandbox: true, executor: executor.kind },
            ended: (outcome) => ({
              ...(outcome.run.status === 'completed'
                ? {}
                : {
                    status: 'failed',
                    detail: outcome.run.error ?? `the run ended: ${outcome.run.status}`,
                  }),
              ...(outcome.batch && outcome.batch.size > 1 ? { batch: outcome.batch.size } : {}),
            }),
          },
        );
        const bounded = boundEvents(run.events, report, maxEvents);
        const summary: PhaseSummary = {
          phase,
          status: run.status,
          durationMs: run.durationMs,
          timeoutMs: phaseTimeout,
          ...(run.exitCode !== undefined ? { exitCode: run.exitCode } : {}),
          events: run.events.length,
          storedEvents: bounded.events.length,
          details: run.details.slice(0, 20).map((d) => d.slice(0, 500)),
          ...(deps ? { dependencies: deps.summary } : {}),
          ...(batch ? { batch } : {}),
        };
        // The raw events beside the report: rules read the report, `query_events` the events.
        const record: PhaseRecord = {
          report,
          events: bounded.events,
          eventsOmitted: bounded.omitted,
          summary,
        };
        return { phase, record };
      };
      // Every phase settles before the package directory is removed, even when one of them failed.
      const settled = await Promise.allSettled(phases.map(runPhaseOf));
      for (const result of settled) if (result.status === 'rejected') throw result.reason;
      const { control } = await known;
      for (const result of settled) {
        if (result.status === 'fulfilled') out[result.value.phase] = result.value.record;
      }
      const sandbox: SandboxRecord = {
        planned: phases,
        ...(support.ok ? {} : { unavailable: support.missing }),
        ...(control ? { baseline: control.runs } : {}),
        ...(pkg.issues.length > 0 ? { extractionIssues: pkg.issues.slice(0, 20) } : {}),
      };
      return { ...out, sandbox };
    } finally {
      await pkg.cleanup();
    }
  }
}

/**
 * The static analyzer followed by the dynamic stage: the pieces of both (the sandbox runs only when
 * the static stage produced its report).
 */
export function withDynamicStage(inner: StaticStage, stage: DynamicStage): ArtifactAnalyzer {
  return {
    // Promise callbacks, not an async function: a suspended async function keeps its parameters (here the
    // tarball and the packument) for as long as it waits, and the sandbox phases wait for batches.
    analyze(input) {
      return inner.analyzeKeeping(input).then(({ pieces, packageDir }) => {
        if (!pieces.static || input.signal.aborted) {
          return (packageDir?.cleanup() ?? Promise.resolve()).then(() => {
            input.signal.throwIfAborted();
            return pieces;
          });
        }
        return stage.run({ ...input, packageDir }).then(joinedWith(pieces));
      });
    },
  };
}

/**
 * The static pieces joined with the dynamic ones. At module level on purpose: a callback created inside
 * `analyze` would keep its scope, and with it `input`, alive until the sandbox phases are over.
 */
function joinedWith(pieces: StageReports): (dynamic: Pick<StageReports, Phase | 'sandbox'>) => StageReports {
  return (dynamic) => ({ ...pieces, ...dynamic });
}
