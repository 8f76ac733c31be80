// One sandbox session, the lifecycle every sandbox run shares (one package's phase, a batch):
// prepare → fake internet → trace → run → grace → collect → clean up. What differs between a single
// run and a batch — what is prepared, the environment, what a runner message means, what is
// collected — comes in the spec; the order, the limits and the clean-up live here once.
import type { RunnerMessage } from './collect-events.js';
import { createCgroups, removeCgroups, sawOutOfMemory, unmount, type Cgroups } from './host-ops.js';
import { cleanupRun, SANDBOX_HOST_UID } from './prepare-run.js';
import { processTree, treeProcesses } from './process-tree.js';
import type { PreparedRun } from './prepare-run.js';
import { waitOutGrace, type GraceEnd } from './quiescence.js';
import {
  deadline,
  killTree,
  spawnTracedSandbox,
  startSink,
  stopSink,
  traceLimitError,
  HOST_ENV,
  type Sink,
} from './sandbox-process.js';
import { staticLayer } from './static-layer.js';
import { createUserNamespace, type SandboxUserNamespace } from './user-namespace.js';
import type { PhaseRun } from './types.js';

/** What a prepared run (one package or a batch) brings to the session. */
export type SessionRun = Pick<
  PreparedRun,
  'id' | 'hostDir' | 'runRoot' | 'mounted' | 'namespaces' | 'persona' | 'honeytokens' | 'ca' | 'details'
> & { readOnlyBinds?: PreparedRun['readOnlyBinds'] };

/** How the run ended, before its evidence is collected. */
export interface SessionOutcome {
  status: Exclude<PhaseRun['status'], 'error'>;
  error?: string;
  /** The sandbox's own exit code, when it ended by itself before reporting done. */
  exitCode?: number;
  /** The first 64 KiB of the sandbox's stdout and stderr. */
  output: string;
  /** When the runner started and when it was over (ms since the epoch). */
  ranFrom: number;
  ranUntil: number;
  /** How the grace period after `done` went (absent when the run did not get to `done`). */
  grace?: GraceEnd;
}

export interface SessionSpec<Run extends SessionRun, Result> {
  /** Stages the run: its tmpfs, home, project and packages, honeytokens, CA. */
  prepare(): Promise<Run>;
  /** The environment of the runner inside the sandbox. */
  env(run: Run): Record<string, string>;
  /** A runner message; `true` when it says the runner is done (the grace period starts). */
  onMessage(message: RunnerMessage): boolean;
  /** Reads the trace and the fake internet's records after the sandbox is gone. */
  collect(run: Run, sink: Sink, outcome: SessionOutcome, details: string[]): Promise<Result>;
  /** "the install phase", "the batch": the subject of the timeout and crash messages. */
  subject: string;
  timeoutMs: number;
  graceMs: number;
  /**
   * Whether the runner process itself ran package code (an import or browser phase run alone): then
   * the grace always runs its full length. Otherwise (npm running an install script, a batch's
   * loaders) it ends as soon as nothing of the package is left (quiescence.ts).
   */
  runnerRunsPackageCode: boolean;
  memoryMb: number;
  maxProcesses: number;
  maxTraceMb: number;
  nodePath: string;
  /** The fake internet's log owner, when the runner is not root in its namespace (batches). */
  sinkOwnerUid?: number | undefined;
  dnsAnswers?: Parameters<typeof startSink>[0]['dnsAnswers'];
}

/**
 * Runs one sandbox session and returns what `collect` made of it. Throws when preparing or
 * collecting fails (the caller turns that into its `error` result: never an approval); everything
 * the session set up is torn down either way.
 */
export async function runSandboxSession<Run extends SessionRun, Result>(
  spec: SessionSpec<Run, Result>,
): Promise<Result> {
  let run: Run | undefined;
  let sink: Sink | undefined;
  let userNamespace: SandboxUserNamespace | undefined;
  let cgroups: Cgroups | undefined;
  const sessionStart = Date.now();
  try {
    run = await spec.prepare();
    const prepared = Date.now();
    const details = [...run.details];
    // Rootless (run.namespaces), bubblewrap makes the user namespace itself (bwrap-args.ts).
    const [started, made, layer] = await Promise.allSettled([
      startSink({
        hostDir: run.hostDir,
        ca: run.ca,
        nodePath: spec.nodePath,
        ...(run.namespaces ? { namespaces: run.namespaces } : {}),
        ...(spec.sinkOwnerUid !== undefined ? { ownerUid: spec.sinkOwnerUid } : {}),
        ...(spec.dnsAnswers !== undefined ? { dnsAnswers: spec.dnsAnswers } : {}),
      }),
      run.namespaces
        ? Promise.resolve(undefined)
        : createUserNamespace(run.persona, SANDBOX_HOST_UID, HOST_ENV),
      staticLayer(spec.nodePath),
    ]);
    if (started.status === 'fulfilled') sink = started.value;
    if (made.status === 'fulfilled') userNamespace = made.value;
    if (started.status === 'rejected') throw started.reason;
    if (made.status === 'rejected') throw made.reason;
    if (layer.status === 'rejected') throw layer.reason;
    if (!sink) throw new Error('unreachable: the sandbox session has no sink');
    // The desktop's processes (process-tree.ts) count against the limit too; the grace tells the
    // package's processes from them by their planned pids.
    const desktop = treeProcesses(processTree(run.persona));
    const maxProcesses = spec.maxProcesses + desktop.length;
    cgroups = await createCgroups(`sr-${run.id}`, { memoryMb: spec.memoryMb, maxProcesses });
    details.push(...cgroups.details);
    const host = {
      ...(userNamespace ? { userNamespace: userNamespace.path } : {}),
      staticRoot: layer.value.root,
    };
    const planned = new Set(desktop.map((p) => p.pid));
    const outcome = await supervise(run, sink, host, cgroups, planned, { ...spec, maxProcesses });
    if (outcome.grace) details.push(graceDetail(outcome.grace, spec.graceMs));
    await stopSink(sink);
    const result = await spec.collect(run, sink, outcome, details);
    // Where the session's time went, first (the result holds `details` by reference).
    details.unshift(
      `session: prepare ${prepared - sessionStart} ms, set-up ${outcome.ranFrom - prepared} ms, run ${outcome.ranUntil - outcome.ranFrom - (outcome.grace?.ms ?? 0)} ms, grace ${outcome.grace?.ms ?? 0} ms, kill and collect ${Date.now() - outcome.ranUntil} ms`,
    );
    return result;
  } finally {
    userNamespace?.close();
    if (sink) await stopSink(sink);
    if (cgroups) await removeCgroups(cgroups);
    if (run) await cleanupRun(run, unmount);
  }
}

function graceDetail(grace: GraceEnd, graceMs: number): string {
  const how =
    grace.ended === 'quiet'
      ? 'nothing of the package left'
      : grace.ended === 'exited'
        ? 'the sandbox ended'
        : `the full ${graceMs} ms${grace.left ? `: ${grace.left}` : ''}`;
  return `grace ${grace.ms} ms (${how})`;
}

/** Trace → run → grace: starts the sandbox, waits for done, a timeout, a crash or the trace limit, kills the tree. */
async function supervise<Run extends SessionRun>(
  run: Run,
  sink: Sink,
  host: { userNamespace?: string; staticRoot: string },
  cgroups: Cgroups,
  /** The desktop's pids in the sandbox (process-tree.ts). */
  planned: ReadonlySet<number>,
  spec: SessionSpec<Run, unknown>,
): Promise<SessionOutcome> {
  let onDone: (() => void) | undefined;
  const done = new Promise<'done'>((resolve) => (onDone = () => resolve('done')));
  const ranFrom = Date.now();
  const sandbox = spawnTracedSandbox({
    hostDir: run.hostDir,
    runRoot: run.runRoot,
    persona: run.persona,
    env: spec.env(run),
    nodePath: spec.nodePath,
    sink,
    ...host,
    cgroups,
    maxProcesses: spec.maxProcesses,
    maxTraceMb: spec.maxTraceMb,
    ...(run.readOnlyBinds ? { readOnlyBinds: run.readOnlyBinds } : {}),
    ...(run.namespaces ? { namespaces: run.namespaces } : {}),
    onMessage: (message) => {
      if (spec.onMessage(message)) onDone?.();
    },
  });
  const limit = deadline(spec.timeoutMs);
  const first = await Promise.race([done, sandbox.exited, limit.reached, sandbox.traceLimit]);
  limit.cancel();
  let outcome: Omit<SessionOutcome, 'output' | 'ranFrom' | 'ranUntil'>;
  if (first === 'trace-limit') {
    outcome = { status: 'crashed', error: traceLimitError(spec.maxTraceMb) };
  } else if (first === 'done') {
    const grace = await waitOutGrace({
      graceMs: spec.graceMs,
      exited: sandbox.exited,
      ...(spec.runnerRunsPackageCode
        ? {}
        : { quiet: { cgroups, planned, netPid: run.namespaces?.pid ?? sink.child.pid ?? -1 } }),
    });
    outcome = { status: 'completed', grace };
  } else if (first === 'timeout') {
    outcome = { status: 'timeout', error: `${spec.subject} did not finish within ${spec.timeoutMs} ms` };
  } else {
    const { child } = sandbox;
    outcome = {
      status: 'crashed',
      error: (await sawOutOfMemory(cgroups))
        ? `${spec.subject} was killed for exceeding the memory limit`
        : `the sandbox ended before ${spec.subject} finished (exit ${child.exitCode ?? child.signalCode})`,
      ...(child.exitCode !== null ? { exitCode: child.exitCode } : {}),
    };
  }
  const ranUntil = Date.now();
  await killTree(sandbox.child, cgroups);
  return { ...outcome, output: sandbox.output(), ranFrom, ranUntil };
}
