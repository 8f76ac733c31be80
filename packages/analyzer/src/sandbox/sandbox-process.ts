// The host side of one sandbox: the fake internet (sink in its own network namespace), the traced
// bubblewrap process and killing every process of a run. Shared by runPhase and runBatch.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { accessSync, chmodSync, constants, mkdtempSync, symlinkSync } from 'node:fs';
import { stat, writeFile } from 'node:fs/promises';
import { uptime } from 'node:os';
import { join } from 'node:path';
import { bwrapArgs } from './bwrap-args.js';
import { parseJsonLines, type RunnerMessage } from './collect-events.js';
import { DECOY_PORT } from './decoys.js';
import { cgroupPids, descendants, findTool, killQuietly, type Cgroups } from './host-ops.js';
import { bootOffsetSeconds, type Persona } from './layout.js';
import { DNS_PORT, netnsSetupScript } from './netns.js';
import { SINK_MAIN, systemEntries } from './prepare-run.js';
import { enterRunNamespaces, hostPrivilege, OWN_USER_NAMESPACE, type RunNamespaces } from './rootless.js';
import { SINK_READY_LINE, SINK_TCP_PORT, type SinkConfig } from './sink-protocol.js';
import type { PemPair } from './tls-ca.js';

const STRACE_SYSCALLS = [
  'execve', 'execveat', 'open', 'openat', 'openat2', 'creat', 'unlink', 'unlinkat', 'rmdir', 'rename', 'renameat',
  'renameat2', 'link', 'linkat', 'symlink', 'symlinkat', 'mkdir', 'mkdirat', 'chmod', 'fchmodat', 'truncate', 'chdir',
  'fchdir', 'socket', 'connect', 'sendto', 'sendmsg', 'sendmmsg', 'clone', 'clone3', 'fork', 'vfork', 'exit_group',
].join(','); // prettier-ignore

/** `setpriv` arguments: the next program is SIGKILLed when the host process dies (no orphaned sandboxes). */
const DIE_WITH_HOST = ['--pdeathsig', 'KILL', '--'];

export const HOST_ENV = {
  PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
  LANG: 'C.UTF-8',
};
export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A deadline that can be cancelled, so a finished run does not keep the event loop alive. */
export function deadline(ms: number): { reached: Promise<'timeout'>; cancel(): void } {
  let timer: NodeJS.Timeout | undefined;
  const reached = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), ms)));
  return { reached, cancel: () => clearTimeout(timer) };
}

export interface Sink {
  child: ChildProcess;
  logPath: string;
}

export async function startSink(options: {
  hostDir: string;
  ca: PemPair;
  nodePath: string;
  /** Look up which sandbox process (by this host uid) owns each connection and DNS query. */
  ownerUid?: number;
  /** The names DNS resolves; others get NXDOMAIN. Absent: every name. */
  dnsAnswers?: string[];
  /** Rootless mode: the run's namespaces (the network one already set up), which the sink enters. */
  namespaces?: RunNamespaces;
}): Promise<Sink> {
  const { hostDir, ca, nodePath } = options;
  const logPath = join(hostDir, 'sink.jsonl');
  const config: SinkConfig = {
    logPath,
    caCertPem: ca.certPem,
    caKeyPem: ca.keyPem,
    tcpPort: SINK_TCP_PORT,
    decoyPort: DECOY_PORT,
    dnsPort: DNS_PORT,
    maxCapture: 64 * 1024,
    ...(options.ownerUid !== undefined ? { ownerUid: options.ownerUid } : {}),
    ...(options.dnsAnswers !== undefined ? { dnsAnswers: options.dnsAnswers } : {}),
  };
  const configPath = join(hostDir, 'sink.json');
  await writeFile(configPath, JSON.stringify(config), { mode: 0o600 });
  await writeFile(logPath, '', { mode: 0o600 });
  // Killed with this process if it dies (the death signal survives the execs down to the sink's node).
  const netns = options.namespaces
    ? enterRunNamespaces(options.namespaces, ['net'])
    : ['unshare', '--net', '--', 'sh', '-c', netnsSetupScript(), 'sh'];
  const child = spawn('setpriv', [...DIE_WITH_HOST, ...netns, nodePath, SINK_MAIN, configPath], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: HOST_ENV,
  });
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

export async function stopSink(sink: Sink): Promise<void> {
  if (sink.child.exitCode !== null) return;
  const exited = new Promise<void>((resolve) => sink.child.once('exit', () => resolve()));
  killQuietly(sink.child.pid ?? -1, 'SIGTERM');
  await Promise.race([exited, sleep(2000)]);
  if (sink.child.exitCode === null) killQuietly(sink.child.pid ?? -1, 'SIGKILL');
}

/** SIGKILLs every process of the run (pid-namespace descendants of strace and the cgroup members) until none is left. */
export async function killTree(tracer: ChildProcess, cgroups: Cgroups): Promise<void> {
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

/** The per-process directory of the `init` symlink: `sr-init-<pid>-…` (swept when the pid is gone). */
export const INIT_PREFIX = 'sr-init-';

/** The fd bubblewrap reads its arguments from (the runners close it first thing). */
export const ARGS_FD = 4;

let initPath: string | undefined;

/**
 * A symlink named `init` to bubblewrap: a process's name (/proc/PID/comm) is the basename of the
 * path it was executed by. One per process, in a directory the sandbox's host uid can traverse.
 */
export function initLink(): string {
  if (initPath) return initPath;
  const bwrap = findTool('bwrap');
  if (!bwrap) throw new Error('bwrap is not installed');
  const dir = mkdtempSync(`/tmp/${INIT_PREFIX}${process.pid}-`);
  chmodSync(dir, 0o755);
  symlinkSync(bwrap, join(dir, 'init'));
  initPath = join(dir, 'init');
  return initPath;
}

let timeNamespace: boolean | undefined;

/** Whether this kernel and util-linux can give a process a time namespace (Linux 5.6+, CONFIG_TIME_NS). */
function timeNamespaceAvailable(): boolean {
  timeNamespace ??=
    spawnSync(
      'unshare',
      [
        ...(hostPrivilege() === 'rootless' ? OWN_USER_NAMESPACE.slice(1) : []),
        '--time',
        '--boottime',
        '1',
        '--',
        'true',
      ],
      { env: HOST_ENV, stdio: 'ignore' },
    ).status === 0;
  return timeNamespace;
}

/**
 * `unshare` arguments putting the sandbox in a time namespace whose uptime is a laptop's (see
 * bootOffsetSeconds); none where the kernel has no time namespaces (the uptime is then the host's).
 */
function uptimeArgs(): string[] {
  if (!timeNamespaceAvailable()) return [];
  return ['unshare', '--time', '--boottime', String(bootOffsetSeconds(uptime())), '--'];
}

/** The perl the sandbox's init runs on (process-tree.ts): Debian's essential one, bound with /usr. */
export const INIT_PERL = '/usr/bin/perl';

let perlPresent: boolean | undefined;
/**
 * The perl of the sandbox's init, when this host runs it: as root, with Debian's perl (else, and
 * rootless, bubblewrap is PID 1). Its runners wait at its gate (config.gate).
 */
export function initPerl(): string | undefined {
  if (hostPrivilege() !== 'root') return undefined;
  if (perlPresent === undefined) {
    try {
      accessSync(INIT_PERL, constants.X_OK);
      perlPresent = true;
    } catch {
      perlPresent = false;
    }
  }
  return perlPresent ? INIT_PERL : undefined;
}

export const traceLimitError = (maxTraceMb: number): string =>
  `the trace grew past ${maxTraceMb} MiB (a flood of system calls); the run was ended`;

export interface TracedSandbox {
  child: ChildProcess;
  exited: Promise<'exited'>;
  /**
   * Resolves when the trace file grows past `maxTraceMb` (a package can make strace write tens
   * of megabytes a second): the run is then ended like a timeout, never judged on a cut trace.
   */
  traceLimit: Promise<'trace-limit'>;
  /** The first 64 KiB of the sandbox's stdout and stderr. */
  output(): string;
}

/** Starts the runner in bubblewrap under strace, inside the sink's network namespace. */
export function spawnTracedSandbox(options: {
  hostDir: string;
  runRoot: string;
  persona: Persona;
  env: Record<string, string>;
  nodePath: string;
  sink: Sink;
  /**
   * The run's user namespace (user-namespace.ts): bubblewrap runs as its root. Absent (rootless):
   * bubblewrap makes one of its own that maps the persona's uid alone.
   */
  userNamespace?: string;
  /** The static layer's root (static-layer.ts). */
  staticRoot: string;
  cgroups: Cgroups;
  maxProcesses: number;
  /** The most trace (MiB) a run may write (checked every 100 ms). */
  maxTraceMb: number;
  readOnlyBinds?: { hostDir: string; path: string }[];
  /** Rootless mode: the run's namespaces; the sandbox enters them as the user (no uid switch). */
  namespaces?: RunNamespaces;
  onMessage: (message: RunnerMessage) => void;
}): TracedSandbox {
  const { persona, cgroups } = options;
  const perl = initPerl();
  const bwrap = bwrapArgs({
    persona,
    runRoot: options.namespaces?.mountDir ?? options.runRoot,
    staticRoot: options.staticRoot,
    systemEntries: systemEntries(),
    readOnlyBinds: options.readOnlyBinds,
    env: options.env,
    cwd: persona.projectDir,
    ...(perl !== undefined ? { perl } : {}),
    ownUserNamespace: options.userNamespace === undefined,
  });
  // Without a pids cgroup, RLIMIT_NPROC on the dedicated sandbox uid bounds the process count.
  const nproc = cgroups.pidsLimited ? [] : ['prlimit', `--nproc=${options.maxProcesses}`, '--'];
  const joinCgroups = cgroups.dirs.map((d) => `echo $$ > '${d}/cgroup.procs'`).join(' && ') || 'true';
  // bubblewrap's options (environment values, honeytokens among them) come on fd 4 (bubblewrap 0.8
  // takes the command only from its own argv), and it runs as `init`: without the perl init it is
  // PID 1 of the sandbox, where everything may read /proc/1/cmdline and comm.
  const args = [
    '-c', `${joinCgroups} && exec "$@"`, 'sh',
    // strace dies with this process; bubblewrap (--die-with-parent) and its pid namespace with strace.
    'setpriv', ...DIE_WITH_HOST,
    'strace', '-f', '--seccomp-bpf', '--pidns-translation', '-ttt', '-yy', '-s', '4096', '-e', `trace=${STRACE_SYSCALLS}`, '-o', join(options.hostDir, 'strace.txt'), '--',
    ...(options.namespaces
      ? enterRunNamespaces(options.namespaces, ['net', 'mount'])
      : ['nsenter', `--net=/proc/${options.sink.child.pid}/ns/net`, '--']),
    ...uptimeArgs(),
    ...(options.userNamespace !== undefined ? ['nsenter', `--user=${options.userNamespace}`, '--'] : []),
    ...nproc, 'bash', '-c', `exec -a /sbin/init "$0" --args ${ARGS_FD} "$@"`, initLink(), ...bwrap.slice(bwrap.indexOf('--') + 1),
  ]; // prettier-ignore
  const child = spawn('sh', args, { stdio: ['ignore', 'pipe', 'pipe', 'pipe', 'pipe'], env: HOST_ENV });
  const argsStream = child.stdio[ARGS_FD] as NodeJS.WritableStream | null;
  argsStream?.on('error', () => undefined);
  argsStream?.end(
    bwrap
      .slice(0, bwrap.indexOf('--'))
      .map((arg) => `${arg}\0`)
      .join(''),
  );
  let output = '';
  const keep = (d: Buffer): void => {
    if (output.length < 64 * 1024) output += d.toString();
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  let buffer = '';
  const reportStream = child.stdio[3] as NodeJS.ReadableStream | null;
  reportStream?.on('data', (d: Buffer) => {
    buffer += d.toString();
    const lines = buffer.split('\n');
    buffer = lines.pop() ?? '';
    for (const message of parseJsonLines<RunnerMessage>(lines.join('\n'))) options.onMessage(message);
  });
  reportStream?.on('error', () => undefined);
  const exited = new Promise<'exited'>((resolve) => child.once('exit', () => resolve('exited')));
  const tracePath = join(options.hostDir, 'strace.txt');
  const traceLimit = new Promise<'trace-limit'>((resolve) => {
    const timer = setInterval(() => {
      stat(tracePath)
        .then((info) => {
          if (info.size > options.maxTraceMb * 1024 * 1024) {
            clearInterval(timer);
            resolve('trace-limit');
          }
        })
        .catch(() => undefined);
    }, 100);
    void exited.then(() => clearInterval(timer));
  });
  return { child, exited, traceLimit, output: () => output };
}
