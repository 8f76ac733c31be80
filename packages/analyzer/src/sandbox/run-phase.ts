// One phase of one package in the honeypot sandbox: stage, start the fake internet, run under strace
// in bubblewrap, wait (timeout / grace), kill the whole tree, tear down, and collect the evidence.
import { createReadStream } from 'node:fs';
import { cp, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TraceEvent } from '@secure-registry/shared';
import { StraceStream, type StraceParseResult } from '../trace/strace-parser.js';
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
import { gypNotReached } from './native-build.js';
import { prepareRun, type PreparedRun } from './prepare-run.js';
import { NODE_IN_SANDBOX, RUNNER_IN_SANDBOX, npmLifecycleEnv, shellEnv } from './sandbox-env.js';
import type { Sink } from './sandbox-process.js';
import { runSandboxSession } from './sandbox-session.js';
import type { SinkRecord } from './sink-protocol.js';
import { ciEnv } from './variants.js';
import { sandboxSupportOnce } from './support.js';
import type { PhaseRun, PhaseRunOptions } from './types.js';

/**
 * The run's strace output, parsed as it is read (a batch's trace can be a hundred megabytes: it is never
 * held as one string), after a copy of the raw evidence to SR_SANDBOX_DEBUG_DIR, if set. A trace that
 * cannot be read is an empty one.
 */
export async function readTrace(hostDir: string, details: string[]): Promise<StraceParseResult> {
  const debugDir = process.env.SR_SANDBOX_DEBUG_DIR;
  // Keeps the raw evidence of the last run for debugging the sandbox itself.
  if (debugDir) await cp(hostDir, debugDir, { recursive: true }).catch(() => undefined);
  let parsed: StraceParseResult;
  try {
    const stream = new StraceStream({}, translatePidNamespace);
    for await (const chunk of createReadStream(join(hostDir, 'strace.txt'), { encoding: 'utf8' }))
      stream.push(chunk as string);
    parsed = stream.end();
  } catch {
    parsed = new StraceStream().end();
  }
  details.push(
    `strace: ${parsed.stats.lines} lines, ${parsed.stats.syscalls} syscalls, ${parsed.stats.skipped} skipped`,
  );
  return parsed;
}

async function collect(
  run: PreparedRun,
  sink: Sink,
  messages: RunnerMessage[],
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
    other: [...sinkEvents(records), ...browserEvents(messages)],
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
  const messages: RunnerMessage[] = [];
  let doneCode: number | undefined;
  try {
    return await runSandboxSession({
      ...opts,
      subject: `the ${opts.phase} phase`,
      // Playing npm, the runner only starts the scripts; importing, it loads the package itself.
      runnerRunsPackageCode: opts.phase !== 'install',
      prepare: () => prepareRun(opts),
      env: (run) => {
        const { persona } = run;
        return {
          ...shellEnv(persona, run.honeytokens.env, persona.projectDir),
          ...(opts.phase === 'install'
            ? npmLifecycleEnv({
                persona,
                packageName: opts.packageName,
                packageVersion: opts.packageVersion,
                packageDir: run.packageDirInSandbox,
                nodeVersion: process.version,
              })
            : {}),
          ...(opts.environment === 'ci' ? ciEnv(persona) : {}),
        };
      },
      onMessage: (message) => {
        messages.push(message);
        if (message.type !== 'done' || doneCode !== undefined) return false;
        doneCode = typeof message.code === 'number' ? message.code : 1;
        return true;
      },
      collect: async (run, sink, outcome, details) => {
        const exitCode = outcome.status === 'completed' ? doneCode : outcome.exitCode;
        const events = await collect(run, sink, messages, packageId, details);
        for (const m of messages)
          if (m.type === 'load' && m.ok === false)
            details.push(`${String(m.how)} ${String(m.entry)} failed: ${String(m.error)}`);
        // A native build the sandbox could not start proves nothing about the package (fail closed).
        const buildBlocked =
          opts.phase === 'install' && outcome.status === 'completed'
            ? gypNotReached(events, exitCode)
            : undefined;
        if ((outcome.status !== 'completed' || buildBlocked) && outcome.output)
          details.push(`output: ${outcome.output.slice(-2000)}`);
        return {
          status: buildBlocked ? 'error' : outcome.status,
          error: buildBlocked ?? outcome.error,
          exitCode,
          durationMs: Date.now() - started,
          events,
          honeytokens: run.honeytokens.tokens,
          home: run.persona.home,
          projectDir: run.persona.projectDir,
          packageDir: run.packageDirInSandbox,
          existingFiles: run.existingFiles,
          details,
        };
      },
    });
  } catch (error) {
    return {
      ...empty,
      status: 'error',
      error: error instanceof Error ? error.message : String(error),
      durationMs: Date.now() - started,
      details: [],
    };
  }
}
