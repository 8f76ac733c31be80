// Many packages in ONE sandbox: one tmpfs, one fake internet (netns, sink, CA), one bubblewrap under one
// strace, one batch runner that plays npm for every package; the events are then attributed to packages
// (batch-attribution.ts). Fails closed: a package whose turn did not finish is never `completed`.
import { readFile } from 'node:fs/promises';
import { attributeBatch, sequencePackageEvents } from './batch-attribution.js';
import type { BatchPackageRun, BatchRun, BatchRunOptions } from './batch-types.js';
import { addressNames, parseJsonLines, sandboxEventsOnly, type RunnerMessage } from './collect-events.js';
import { installPath, prepareBatch, type PreparedBatch } from './prepare-batch.js';
import { readTrace } from './run-phase.js';
import { SANDBOX_HOST_UID } from './prepare-run.js';
import { hostPrivilege, ROOTLESS_SANDBOX_UID_IN_NAMESPACE } from './rootless.js';
import { NODE_IN_SANDBOX, RUNNER_IN_SANDBOX, shellEnv } from './sandbox-env.js';
import type { Sink } from './sandbox-process.js';
import { runSandboxSession } from './sandbox-session.js';
import type { SinkRecord } from './sink-protocol.js';
import { sandboxSupportOnce } from './support.js';
import type { PhaseRun, PhaseRunOptions } from './types.js';

interface PackageResult {
  status: 'completed' | 'timeout' | 'crashed';
  code?: number;
  error?: string;
  ran: boolean;
  ms: number;
}

interface BatchOutcome {
  status: PhaseRun['status'];
  error?: string;
  messages: RunnerMessage[];
  started: Set<number>;
  results: Map<number, PackageResult>;
  output: string;
}

function packageRun(
  options: BatchRunOptions,
  batch: PreparedBatch,
  outcome: BatchOutcome,
  index: number,
): Omit<BatchPackageRun, 'events' | 'ambiguousSeqs' | 'needsIsolation' | 'sharedWith'> {
  const pkg = options.packages[index] as BatchRunOptions['packages'][number];
  const base = {
    name: pkg.name,
    version: pkg.version,
    id: `${pkg.name}@${pkg.version}`,
    packageDir: batch.packageDirs[index] ?? '',
  };
  const result = outcome.results.get(index);
  const details: string[] = [];
  for (const m of outcome.messages)
    if (m.index === index && m.type === 'load' && m.ok === false)
      details.push(`${String(m.how)} ${String(m.entry)} failed: ${String(m.error)}`);
  if (result) {
    return {
      ...base,
      status: result.status,
      ...(result.error ? { error: result.error } : {}),
      ran: result.ran,
      durationMs: result.ms,
      ...(result.code !== undefined ? { exitCode: result.code } : {}),
      details,
    };
  }
  // Fail closed: the batch ended before this package finished (or started).
  const began = outcome.started.has(index);
  return {
    ...base,
    status: began ? (outcome.status === 'completed' ? 'crashed' : outcome.status) : 'error',
    error: began
      ? `unfinished: ${outcome.error ?? 'the runner ended before this package finished'}`
      : `not run: ${outcome.error ?? 'the runner ended before this package'}`,
    ran: began,
    durationMs: 0,
    details,
  };
}

async function collectBatch(
  options: BatchRunOptions,
  batch: PreparedBatch,
  sink: Sink,
  outcome: BatchOutcome,
  details: string[],
): Promise<Pick<BatchRun, 'packages' | 'ambiguous'>> {
  const parsed = await readTrace(batch.hostDir, details);
  const isRunnerExec = (e: (typeof parsed.events)[number]): boolean =>
    e.kind === 'process' &&
    e.path === NODE_IN_SANDBOX &&
    e.argv[1] === RUNNER_IN_SANDBOX &&
    e.argv[2] !== 'load';
  const runnerExec = parsed.events.find(isRunnerExec);
  const trace = sandboxEventsOnly(parsed.events, isRunnerExec);
  const records = parseJsonLines<SinkRecord>(await readFile(sink.logPath, 'utf8').catch(() => ''));
  const runs = options.packages.map((_, i) => packageRun(options, batch, outcome, i));
  const attribution = attributeBatch({
    trace,
    runnerPid: runnerExec?.pid ?? -1,
    packageDirs: batch.packageDirs,
    ran: runs.map((r) => r.ran),
    records,
    messages: outcome.messages,
    entries: batch.runnerConfig.packages.map((p) =>
      options.phase === 'browser' ? (p.browserEntry !== undefined ? [p.browserEntry] : []) : p.entries,
    ),
  });
  const { stats } = attribution;
  details.push(
    `attribution: ${attribution.runnerEvents} runner events dropped; sink records by socket owner ${stats.owner}, by correlation ${stats.correlated}, ambiguous ${stats.ambiguous}`,
  );
  const names = addressNames(records);
  const ids = runs.map((r) => r.id);
  const packages = runs.map((run, i) => {
    const seq = sequencePackageEvents({ events: attribution.byPackage[i] ?? [], packageId: run.id, names });
    const unseen = attribution.unverified.has(i);
    return {
      ...run,
      ...seq,
      ...(unseen
        ? { details: [...run.details, 'its entries were not seen opened in its loader window'] }
        : {}),
      needsIsolation: seq.ambiguousSeqs.length > 0 || unseen,
      sharedWith: (attribution.sharedWith[i] ?? []).map((j) => ids[j] ?? String(j)),
    };
  });
  const ambiguous = attribution.ambiguous.map((a) => ({
    event: { ...a.event, seq: -1 } as BatchRun['ambiguous'][number]['event'],
    candidates: a.candidates.map((i) => ids[i] ?? String(i)),
  }));
  return { packages, ambiguous };
}

/**
 * A batch that ended before any package's turn (the sandbox missing, a crash while preparing, a remote
 * job that failed): status `error`, every package `error` and not run (fail closed).
 */
export function batchNotRun(
  options: BatchRunOptions,
  error: string,
  durationMs: number,
  details: string[] = [],
): BatchRun {
  return {
    status: 'error',
    error,
    durationMs,
    packages: options.packages.map((p) => ({
      name: p.name,
      version: p.version,
      id: `${p.name}@${p.version}`,
      packageDir: '',
      status: 'error',
      error: `not run: ${error}`,
      ran: false,
      durationMs: 0,
      events: [],
      ambiguousSeqs: [],
      needsIsolation: false,
      sharedWith: [],
      details: [],
    })),
    ambiguous: [],
    honeytokens: [],
    home: '',
    projectDir: '',
    details,
    isolate: batchIsolation(options),
  };
}

/** `BatchRun.isolate` for a batch of `options`: one package alone, the others as its dependencies. */
export function batchIsolation(options: BatchRunOptions) {
  return (name: string, version?: string): PhaseRunOptions => {
    const target = options.packages.find(
      (p) => p.name === name && (version === undefined || p.version === version),
    );
    if (!target) throw new Error(`${name}${version ? `@${version}` : ''} is not in this batch`);
    // The rest of the tree where it was, the target moved to the top with what was nested under it.
    const from = installPath(target);
    const to = `node_modules/${target.name}`;
    const dependencies: { name: string; dir: string; path: string }[] = [];
    for (const p of options.packages) {
      if (p === target) continue;
      let path = installPath(p);
      if (path.startsWith(`${from}/`)) path = `${to}${path.slice(from.length)}`;
      else if (path === to || path.startsWith(`${to}/`)) continue; // displaced by the target
      dependencies.push({ name: p.name, dir: p.dir, path });
    }
    return {
      phase: options.phase,
      packageName: target.name,
      packageVersion: target.version,
      packageDir: target.dir,
      dependencies,
      ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
      ...(options.nodePath !== undefined ? { nodePath: options.nodePath } : {}),
    };
  };
}

/** Loaders at once: one for installs (they run deepest first), else `concurrency` (default 2). */
function batchConcurrency(options: BatchRunOptions): number {
  return options.phase === 'install' ? 1 : Math.max(1, options.concurrency ?? 2);
}

/**
 * The most the whole batch may take: `batchTimeoutMs` when given, else each loader's packages one
 * after the other at the per-package limit, plus 30 s.
 */
export function batchLimitMs(options: BatchRunOptions): number {
  const timeoutMs = options.timeoutMs ?? 30_000;
  return (
    options.batchTimeoutMs ??
    timeoutMs * Math.ceil(options.packages.length / batchConcurrency(options)) + 30_000
  );
}

/** Runs one phase of many packages in one sandbox. Never throws: failures come back as status `error`. */
export async function runBatch(options: BatchRunOptions): Promise<BatchRun> {
  const started = Date.now();
  const timeoutMs = options.timeoutMs ?? 30_000;
  const concurrency = batchConcurrency(options);
  const opts = {
    graceMs: 3_000,
    lingerMs: 1_000,
    // A browser loader imports happy-dom (hundreds of traced file opens) before its first package.
    groupSize: options.phase === 'browser' ? 64 : 16,
    memoryMb: 4096,
    maxProcesses: 1024,
    maxTraceMb: 512,
    nodePath: process.execPath,
    ...options,
    batchTimeoutMs: batchLimitMs(options),
    timeoutMs,
    concurrency,
  };
  const isolate = batchIsolation(options);
  const failed = (error: string, details: string[] = []): BatchRun =>
    batchNotRun(options, error, Date.now() - started, details);
  const support = await sandboxSupportOnce();
  if (!support.ok)
    return failed(`sandbox unavailable: missing ${support.missing.join(', ')}`, support.details);
  const messages: RunnerMessage[] = [];
  const startedIndexes = new Set<number>();
  const results = new Map<number, PackageResult>();
  try {
    return await runSandboxSession({
      ...opts,
      timeoutMs: opts.batchTimeoutMs,
      subject: 'the batch',
      // The orchestrator loads nothing itself: every package runs in a loader or a script's process.
      runnerRunsPackageCode: false,
      sinkOwnerUid: hostPrivilege() === 'root' ? SANDBOX_HOST_UID : ROOTLESS_SANDBOX_UID_IN_NAMESPACE,
      prepare: async () => {
        const batch = await prepareBatch(opts);
        batch.details.push(`prepared ${options.packages.length} packages in ${Date.now() - started} ms`);
        return batch;
      },
      env: (batch) => shellEnv(batch.persona, batch.honeytokens.env, batch.persona.projectDir),
      onMessage: (m) => {
        const index = typeof m.index === 'number' ? m.index : undefined;
        if (m.type === 'start' && index !== undefined) startedIndexes.add(index);
        else if (m.type === 'result' && index !== undefined && !results.has(index)) {
          const status = m.status === 'timeout' || m.status === 'crashed' ? m.status : 'completed';
          results.set(index, {
            status,
            ...(typeof m.code === 'number' ? { code: m.code } : {}),
            ...(typeof m.error === 'string' ? { error: m.error } : {}),
            ran: m.ran !== false,
            ms: typeof m.ms === 'number' ? m.ms : 0,
          });
        }
        if (m.type !== 'result' && m.type !== 'start') messages.push(m);
        return m.type === 'done';
      },
      collect: async (batch, sink, session, details) => {
        const collecting = Date.now();
        const outcome: BatchOutcome = {
          status: session.status,
          ...(session.error ? { error: session.error } : {}),
          messages,
          started: startedIndexes,
          results,
          output: session.output,
        };
        const collected = await collectBatch(options, batch, sink, outcome, details);
        details.push(
          `ran in ${session.ranUntil - session.ranFrom} ms, collected in ${Date.now() - collecting} ms`,
        );
        if (outcome.status !== 'completed' && outcome.output)
          details.push(`output: ${outcome.output.slice(-2000)}`);
        return {
          status: outcome.status,
          ...(outcome.error ? { error: outcome.error } : {}),
          durationMs: Date.now() - started,
          ...collected,
          honeytokens: batch.honeytokens.tokens,
          home: batch.persona.home,
          projectDir: batch.persona.projectDir,
          existingFiles: batch.existingFiles,
          details,
          isolate,
        };
      },
    });
  } catch (error) {
    return failed(error instanceof Error ? error.message : String(error));
  }
}
