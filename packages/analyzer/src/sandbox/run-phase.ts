// One phase of one package in the honeypot sandbox: stage, start the fake internet, run under strace
// in bubblewrap, wait (timeout / grace), kill the whole tree, tear down, and collect the evidence.
import { cp, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TraceEvent } from '@secure-registry/shared';
import { parseStraceDetailed } from '../trace/strace-parser.js';
import {
  addressNames,
  browserEvents,
  mergeEvents,
  parseJsonLines,
  sandboxEventsOnly,
  sinkEvents,
  translatePidNamespace,
  type RunnerMessage,
} from './collect-events.js';
import { createCgroups, removeCgroups, sawOutOfMemory, unmount, type Cgroups } from './host-ops.js';
import { gypNotReached } from './native-build.js';
import { cleanupRun, prepareRun, type PreparedRun } from './prepare-run.js';
import { NODE_IN_SANDBOX, RUNNER_IN_SANDBOX, npmLifecycleEnv, shellEnv } from './sandbox-env.js';
import {
  deadline,
  killTree,
  sleep,
  spawnTracedSandbox,
  startSink,
  stopSink,
  traceLimitError,
  type Sink,
} from './sandbox-process.js';
import type { SinkRecord } from './sink-protocol.js';
import { ciEnv } from './variants.js';
import { sandboxSupportOnce } from './support.js';
import type { PhaseRun, PhaseRunOptions } from './types.js';

interface Outcome {
  status: PhaseRun['status'];
  error?: string;
  exitCode?: number;
  messages: RunnerMessage[];
  output: string;
}

async function execute(
  run: PreparedRun,
  sink: Sink,
  cgroups: Cgroups,
  options: Required<
    Pick<PhaseRunOptions, 'timeoutMs' | 'graceMs' | 'maxProcesses' | 'maxTraceMb' | 'nodePath'>
  > &
    PhaseRunOptions,
): Promise<Outcome> {
  const { persona } = run;
  const env = {
    ...shellEnv(persona, run.honeytokens.env, persona.projectDir),
    ...(options.phase === 'install'
      ? npmLifecycleEnv({
          persona,
          packageName: options.packageName,
          packageVersion: options.packageVersion,
          packageDir: run.packageDirInSandbox,
          nodeVersion: process.version,
        })
      : {}),
    ...(options.environment === 'ci' ? ciEnv(persona) : {}),
  };
  const messages: RunnerMessage[] = [];
  let doneCode: number | undefined;
  let onDone: (() => void) | undefined;
  const sandbox = spawnTracedSandbox({
    hostDir: run.hostDir,
    runRoot: run.runRoot,
    persona,
    env,
    nodePath: options.nodePath,
    sink,
    cgroups,
    maxProcesses: options.maxProcesses,
    maxTraceMb: options.maxTraceMb,
    readOnlyBinds: run.readOnlyBinds,
    onMessage: (message) => {
      messages.push(message);
      if (message.type === 'done' && doneCode === undefined) {
        doneCode = typeof message.code === 'number' ? message.code : 1;
        onDone?.();
      }
    },
  });
  const { child, exited } = sandbox;
  const done = new Promise<'done'>((resolve) => (onDone = () => resolve('done')));
  const limit = deadline(options.timeoutMs);
  const first = await Promise.race([done, exited, limit.reached, sandbox.traceLimit]);
  limit.cancel();
  let outcome: Outcome;
  if (first === 'trace-limit') {
    outcome = {
      status: 'crashed',
      error: traceLimitError(options.maxTraceMb),
      messages,
      output: '',
    };
  } else if (first === 'done') {
    await Promise.race([exited, sleep(options.graceMs)]);
    outcome = { status: 'completed', exitCode: doneCode, messages, output: '' };
  } else if (first === 'timeout') {
    outcome = {
      status: 'timeout',
      error: `the ${options.phase} phase did not finish within ${options.timeoutMs} ms`,
      messages,
      output: '',
    };
  } else {
    const oom = await sawOutOfMemory(cgroups);
    outcome = {
      status: 'crashed',
      error: oom
        ? 'killed for exceeding the memory limit'
        : `the sandbox ended before the ${options.phase} phase finished (exit ${child.exitCode ?? child.signalCode})`,
      exitCode: child.exitCode ?? undefined,
      messages,
      output: '',
    };
  }
  await killTree(child, cgroups);
  outcome.output = sandbox.output();
  return outcome;
}

/** The run's strace output, parsed (after a copy of the raw evidence to SR_SANDBOX_DEBUG_DIR, if set). */
export async function readTrace(
  hostDir: string,
  details: string[],
): Promise<ReturnType<typeof parseStraceDetailed>> {
  const straceText = await readFile(join(hostDir, 'strace.txt'), 'utf8').catch(() => '');
  const debugDir = process.env.SR_SANDBOX_DEBUG_DIR;
  // Keeps the raw evidence of the last run for debugging the sandbox itself.
  if (debugDir) await cp(hostDir, debugDir, { recursive: true }).catch(() => undefined);
  const parsed = parseStraceDetailed(translatePidNamespace(straceText));
  details.push(
    `strace: ${parsed.stats.lines} lines, ${parsed.stats.syscalls} syscalls, ${parsed.stats.skipped} skipped`,
  );
  return parsed;
}

async function collect(
  run: PreparedRun,
  sink: Sink,
  outcome: Outcome,
  packageId: string,
  details: string[],
): Promise<TraceEvent[]> {
  const parsed = await readTrace(run.hostDir, details);
  const isRunnerExec = (e: TraceEvent): boolean =>
    e.kind === 'process' && e.path === NODE_IN_SANDBOX && e.argv.includes(RUNNER_IN_SANDBOX);
  const trace = sandboxEventsOnly(parsed.events, isRunnerExec);
  const records = parseJsonLines<SinkRecord>(await readFile(sink.logPath, 'utf8').catch(() => ''));
  return mergeEvents({
    trace,
    other: [...sinkEvents(records), ...browserEvents(outcome.messages)],
    packageId,
    names: addressNames(records),
  });
}

/** Runs one phase of one package in the sandbox. Never throws: failures come back as status `error`. */
export async function runPhase(options: PhaseRunOptions): Promise<PhaseRun> {
  const started = Date.now();
  const opts = {
    timeoutMs: 30_000,
    graceMs: 3_000,
    memoryMb: 1024,
    maxProcesses: 256,
    maxTraceMb: 128,
    nodePath: process.execPath,
    ...options,
  };
  const packageId = `${options.packageName}@${options.packageVersion}`;
  const empty = { events: [], honeytokens: [], home: '', projectDir: '', packageDir: '' };
  const support = await sandboxSupportOnce();
  if (!support.ok) {
    return {
      ...empty,
      status: 'error',
      error: `sandbox unavailable: missing ${support.missing.join(', ')}`,
      durationMs: Date.now() - started,
      details: support.details,
    };
  }
  let run: PreparedRun | undefined;
  let sink: Sink | undefined;
  let cgroups: Cgroups | undefined;
  try {
    run = await prepareRun(opts);
    const details = [...run.details];
    sink = await startSink({
      hostDir: run.hostDir,
      ca: run.ca,
      nodePath: opts.nodePath,
      ...(opts.dnsAnswers !== undefined ? { dnsAnswers: opts.dnsAnswers } : {}),
    });
    cgroups = await createCgroups(`sr-${run.id}`, {
      memoryMb: opts.memoryMb,
      maxProcesses: opts.maxProcesses,
    });
    details.push(...cgroups.details);
    const outcome = await execute(run, sink, cgroups, opts);
    await stopSink(sink);
    const events = await collect(run, sink, outcome, packageId, details);
    for (const m of outcome.messages)
      if (m.type === 'load' && m.ok === false)
        details.push(`${String(m.how)} ${String(m.entry)} failed: ${String(m.error)}`);
    // A native build the sandbox could not start proves nothing about the package (fail closed).
    const buildBlocked =
      opts.phase === 'install' && outcome.status === 'completed'
        ? gypNotReached(events, outcome.exitCode)
        : undefined;
    if ((outcome.status !== 'completed' || buildBlocked) && outcome.output)
      details.push(`output: ${outcome.output.slice(-2000)}`);
    return {
      status: buildBlocked ? 'error' : outcome.status,
      error: buildBlocked ?? outcome.error,
      exitCode: outcome.exitCode,
      durationMs: Date.now() - started,
      events,
      honeytokens: run.honeytokens.tokens,
      home: run.persona.home,
      projectDir: run.persona.projectDir,
      packageDir: run.packageDirInSandbox,
      existingFiles: run.existingFiles,
      details,
    };
  } catch (error) {
    return {
      ...empty,
      status: 'error',
      error: error instanceof Error ? error.message : String(error),
      durationMs: Date.now() - started,
      details: [],
    };
  } finally {
    if (sink) await stopSink(sink);
    if (cgroups) await removeCgroups(cgroups);
    if (run) await cleanupRun(run, unmount);
  }
}
