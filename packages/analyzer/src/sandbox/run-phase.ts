// One phase of one package in the honeypot sandbox: stage, start the fake internet, run under strace
// in bubblewrap, wait (timeout / grace), kill the whole tree, tear down, and collect the evidence.
import { spawn, type ChildProcess } from 'node:child_process';
import { cp, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TraceEvent } from '@secure-registry/shared';
import { parseStraceDetailed } from '../trace/strace-parser.js';
import { bwrapArgs } from './bwrap-args.js';
import {
  addressNames,
  browserEvents,
  mergeEvents,
  parseJsonLines,
  sandboxEventsOnly,
  sinkEvents,
  type RunnerMessage,
} from './collect-events.js';
import { DECOY_PORT } from './decoys.js';
import {
  cgroupPids,
  createCgroups,
  descendants,
  killQuietly,
  removeCgroups,
  sawOutOfMemory,
  unmount,
  type Cgroups,
} from './host-ops.js';
import { DNS_PORT, netnsSetupScript } from './netns.js';
import {
  SANDBOX_HOST_UID,
  SINK_MAIN,
  cleanupRun,
  prepareRun,
  supportPackages,
  systemEntries,
  type PreparedRun,
} from './prepare-run.js';
import { NODE_IN_SANDBOX, RUNNER_IN_SANDBOX, npmLifecycleEnv, shellEnv } from './sandbox-env.js';
import { SINK_READY_LINE, SINK_TCP_PORT, type SinkConfig, type SinkRecord } from './sink-protocol.js';
import { sandboxSupportOnce } from './support.js';
import { translatePidNamespace } from './collect-events.js';
import type { PhaseRun, PhaseRunOptions } from './types.js';

const STRACE_SYSCALLS = [
  'execve', 'execveat', 'open', 'openat', 'openat2', 'creat', 'unlink', 'unlinkat', 'rmdir', 'rename', 'renameat',
  'renameat2', 'link', 'linkat', 'symlink', 'symlinkat', 'mkdir', 'mkdirat', 'chmod', 'fchmodat', 'truncate', 'chdir',
  'fchdir', 'socket', 'connect', 'sendto', 'sendmsg', 'sendmmsg', 'clone', 'clone3', 'fork', 'vfork', 'exit_group',
].join(','); // prettier-ignore

const HOST_ENV = { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C.UTF-8' };
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

interface Sink {
  child: ChildProcess;
  logPath: string;
}

async function startSink(run: PreparedRun, nodePath: string): Promise<Sink> {
  const logPath = join(run.hostDir, 'sink.jsonl');
  const config: SinkConfig = {
    logPath,
    caCertPem: run.ca.certPem,
    caKeyPem: run.ca.keyPem,
    tcpPort: SINK_TCP_PORT,
    decoyPort: DECOY_PORT,
    dnsPort: DNS_PORT,
    maxCapture: 64 * 1024,
  };
  const configPath = join(run.hostDir, 'sink.json');
  await writeFile(configPath, JSON.stringify(config), { mode: 0o600 });
  await writeFile(logPath, '', { mode: 0o600 });
  const child = spawn(
    'unshare',
    ['--net', '--', 'sh', '-c', netnsSetupScript(), 'sh', nodePath, SINK_MAIN, configPath],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: HOST_ENV,
    },
  );
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`sink did not start: ${stderr.trim()}`)), 15_000);
    let out = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes(SINK_READY_LINE)) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`sink exited (${code}): ${stderr.trim()}`));
    });
  });
  child.removeAllListeners('exit');
  return { child, logPath };
}

async function stopSink(sink: Sink): Promise<void> {
  if (sink.child.exitCode !== null) return;
  const exited = new Promise<void>((resolve) => sink.child.once('exit', () => resolve()));
  killQuietly(sink.child.pid ?? -1, 'SIGTERM');
  await Promise.race([exited, sleep(2000)]);
  if (sink.child.exitCode === null) killQuietly(sink.child.pid ?? -1, 'SIGKILL');
}

/** SIGKILLs every process of the run (pid-namespace descendants of strace and the cgroup members) until none is left. */
async function killTree(tracer: ChildProcess, cgroups: Cgroups): Promise<void> {
  const tracerPid = tracer.pid ?? -1;
  for (let round = 0; round < 50; round++) {
    const pids = new Set([...(await descendants(tracerPid)), ...(await cgroupPids(cgroups))]);
    pids.delete(tracerPid);
    if (pids.size === 0) break;
    for (const pid of pids) killQuietly(pid);
    await sleep(20);
  }
  const exited = new Promise<void>((resolve) =>
    tracer.exitCode !== null || tracer.signalCode !== null ? resolve() : tracer.once('exit', () => resolve()),
  );
  await Promise.race([exited, sleep(3000)]);
  if (tracer.exitCode === null && tracer.signalCode === null) killQuietly(tracerPid);
}

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
  options: Required<Pick<PhaseRunOptions, 'timeoutMs' | 'graceMs' | 'maxProcesses' | 'nodePath'>> &
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
  };
  const bwrap = bwrapArgs({
    persona,
    runRoot: run.runRoot,
    nodePath: options.nodePath,
    systemEntries: systemEntries(),
    supportPackages: supportPackages(),
    env,
    cwd: persona.projectDir,
  });
  // Without a pids cgroup, RLIMIT_NPROC on the dedicated sandbox uid bounds the process count.
  const nproc = cgroups.pidsLimited ? [] : ['prlimit', `--nproc=${options.maxProcesses}`, '--'];
  const joinCgroups = cgroups.dirs.map((d) => `echo $$ > '${d}/cgroup.procs'`).join(' && ') || 'true';
  const args = [
    '-c', `${joinCgroups} && exec "$@"`, 'sh',
    'strace', '-f', '--seccomp-bpf', '--pidns-translation', '-ttt', '-yy', '-s', '4096', '-e', `trace=${STRACE_SYSCALLS}`, '-o', join(run.hostDir, 'strace.txt'), '--',
    'nsenter', `--net=/proc/${sink.child.pid}/ns/net`, '--',
    'setpriv', `--reuid=${SANDBOX_HOST_UID}`, `--regid=${SANDBOX_HOST_UID}`, '--clear-groups', '--',
    ...nproc, 'bwrap', ...bwrap,
  ]; // prettier-ignore
  const child = spawn('sh', args, { stdio: ['ignore', 'pipe', 'pipe', 'pipe'], env: HOST_ENV });
  let output = '';
  const keep = (d: Buffer): void => {
    if (output.length < 64 * 1024) output += d.toString();
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const messages: RunnerMessage[] = [];
  let doneCode: number | undefined;
  let onDone: (() => void) | undefined;
  let buffer = '';
  const reportStream = child.stdio[3] as NodeJS.ReadableStream | null;
  reportStream?.on('data', (d: Buffer) => {
    buffer += d.toString();
    const lines = buffer.split('\n');
    buffer = lines.pop() ?? '';
    for (const message of parseJsonLines<RunnerMessage>(lines.join('\n'))) {
      messages.push(message);
      if (message.type === 'done' && doneCode === undefined) {
        doneCode = typeof message.code === 'number' ? message.code : 1;
        onDone?.();
      }
    }
  });
  reportStream?.on('error', () => undefined);
  const exited = new Promise<'exited'>((resolve) => child.once('exit', () => resolve('exited')));
  const done = new Promise<'done'>((resolve) => (onDone = () => resolve('done')));
  const first = await Promise.race([done, exited, sleep(options.timeoutMs).then(() => 'timeout' as const)]);
  let outcome: Outcome;
  if (first === 'done') {
    await Promise.race([exited, sleep(options.graceMs)]);
    outcome = { status: 'completed', exitCode: doneCode, messages, output };
  } else if (first === 'timeout') {
    outcome = {
      status: 'timeout',
      error: `the ${options.phase} phase did not finish within ${options.timeoutMs} ms`,
      messages,
      output,
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
      output,
    };
  }
  await killTree(child, cgroups);
  outcome.output = output;
  return outcome;
}

async function collect(
  run: PreparedRun,
  sink: Sink,
  outcome: Outcome,
  packageId: string,
  details: string[],
): Promise<TraceEvent[]> {
  const straceText = await readFile(join(run.hostDir, 'strace.txt'), 'utf8').catch(() => '');
  const debugDir = process.env.SR_SANDBOX_DEBUG_DIR;
  if (debugDir) {
    // Keeps the raw evidence of the last run for debugging the sandbox itself.
    await cp(run.hostDir, debugDir, { recursive: true }).catch(() => undefined);
  }
  const parsed = parseStraceDetailed(translatePidNamespace(straceText));
  details.push(
    `strace: ${parsed.stats.lines} lines, ${parsed.stats.syscalls} syscalls, ${parsed.stats.skipped} skipped`,
  );
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
    sink = await startSink(run, opts.nodePath);
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
    if (outcome.status !== 'completed' && outcome.output)
      details.push(`output: ${outcome.output.slice(-2000)}`);
    return {
      status: outcome.status,
      error: outcome.error,
      exitCode: outcome.exitCode,
      durationMs: Date.now() - started,
      events,
      honeytokens: run.honeytokens.tokens,
      home: run.persona.home,
      projectDir: run.persona.projectDir,
      packageDir: run.packageDirInSandbox,
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
