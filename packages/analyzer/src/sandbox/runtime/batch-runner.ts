// Runs INSIDE the sandbox (node builtins only): plays npm for a whole tree of packages. Install phase:
// each package's lifecycle scripts in the given (dependency) order, each script in its own `sh -c` with
// cwd in the package and npm's environment. Import / browser phases: loader processes that each load a
// group of packages one after the other (`npm-cli.js load <config> <i,j,…>`), a few loaders at a time.
// Every script and loader starts as a direct child of this runner, which is how the host attributes events
// (process tree, then the loader's package windows). Reports to the host on fd 3 (reopened close-on-exec
// so package processes cannot write to it); a loader reports through its own pipe and the runner stamps
// its messages with the index of the package it is loading.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, createWriteStream, openSync, readFileSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { browser, lingerOver, loadEntries, networkInFlight, waitAtGate, type Send } from './load-entries.js';
import { installTimeWarp, realNow, realTimers, settleTimers } from './time-warp.js';

// fd 4 carried bubblewrap's arguments (../sandbox-process.ts): closed, so nothing of the sandbox's
// making stays open in the package's processes.
try {
  closeSync(4);
} catch {
  // not open (a loader process)
}

export interface BatchRunnerPackage {
  name: string;
  version: string;
  /** The package's directory inside the sandbox. */
  dir: string;
  scripts: { event: string; script: string }[];
  entries: string[];
  browserEntry?: string;
  /** npm's lifecycle environment for this package (install phase). */
  env: Record<string, string>;
}

export interface BatchRunnerConfig {
  phase: 'install' | 'import' | 'browser';
  projectDir: string;
  happyDomPath: string;
  /** Per package (all its scripts, or its loader process). */
  timeoutMs: number;
  /**
   * How long a loader may keep running after loading (pending timers), then it ends; longer while the
   * package's network activity is in flight, up to `timeoutMs` after the loader started.
   */
  lingerMs: number;
  /** The sandbox's init holds the gate on fd 5 (waitAtGate). */
  gate: boolean;
  /** Loader processes at once (import / browser). */
  concurrency: number;
  /** Packages loaded one after the other by one loader process (import / browser). */
  groupSize: number;
  /** Import / browser: the order to load packages in (dependencies first). Default: as listed. */
  loadOrder?: number[];
  packages: BatchRunnerPackage[];
}

/** A write stream on `fd` through a new close-on-exec descriptor: children never inherit the channel. */
function privateChannel(fd: number): NodeJS.WritableStream {
  return createWriteStream('', { fd: privateFd(fd) });
}

function privateFd(fd: number): number {
  try {
    const reopened = openSync(`/proc/self/fd/${fd}`, 'w');
    closeSync(fd);
    return reopened;
  } catch {
    return fd;
  }
}

/** Synchronous: a message is on its way before the next line of package code runs (it may exit at once). */
function syncSend(fd: number): Send {
  return (message) => {
    const bytes = Buffer.from(`${JSON.stringify({ ts: realNow() / 1000, ...message })}\n`);
    for (let off = 0; off < bytes.length;) off += writeSync(fd, bytes, off);
  };
}

function channelSend(stream: NodeJS.WritableStream): Send {
  return (message) => {
    stream.write(`${JSON.stringify({ ts: Date.now() / 1000, ...message })}\n`);
  };
}

const killGroup = (child: ChildProcess): void => {
  try {
    if (child.pid) process.kill(-child.pid, 'SIGKILL');
  } catch {
    child.kill('SIGKILL');
  }
};

interface Outcome {
  status: 'completed' | 'timeout' | 'crashed';
  code?: number;
  error?: string;
}

function runScript(
  pkg: BatchRunnerPackage,
  event: string,
  script: string,
  deadline: number,
): Promise<Outcome> {
  return new Promise((resolve) => {
    const child = spawn('sh', ['-c', script], {
      cwd: pkg.dir,
      stdio: 'inherit',
      detached: true,
      env: { ...process.env, ...pkg.env, npm_lifecycle_event: event, npm_lifecycle_script: script },
    });
    const timer = setTimeout(
      () => {
        killGroup(child);
        resolve({ status: 'timeout', error: `${event} script did not finish in time` });
      },
      Math.max(0, deadline - Date.now()),
    );
    child.on('error', () => {
      clearTimeout(timer);
      resolve({ status: 'completed', code: 127 });
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ status: 'completed', code: code ?? (signal ? 128 : 1) });
    });
  });
}

async function installOne(send: Send, config: BatchRunnerConfig, index: number): Promise<void> {
  const pkg = config.packages[index] as BatchRunnerPackage;
  const started = Date.now();
  if (pkg.scripts.length === 0) {
    send({ type: 'result', index, status: 'completed', code: 0, ran: false, ms: 0 });
    return;
  }
  send({ type: 'start', index });
  const deadline = started + config.timeoutMs;
  let outcome: Outcome = { status: 'completed', code: 0 };
  for (const { event, script } of pkg.scripts) {
    outcome = await runScript(pkg, event, script, deadline);
    send({ type: 'script', index, event, code: outcome.code ?? null, status: outcome.status });
    if (outcome.status !== 'completed' || outcome.code !== 0) break; // npm stops at a failing script
  }
  send({ type: 'result', index, ...outcome, ran: true, ms: Date.now() - started });
}

/**
 * Loads a group of packages in ONE Node process (`npm-cli.js load <config> <i,j,…>`), one after the
 * other: Node's start-up, the largest cost of a small package, is paid once per group. The loader names
 * the package it starts; the runner only accepts the next one of the group, in order, and times each.
 * Once a package's code ran, the loader process is the package's as much as ours: what it says later
 * can be forged, so the host checks from the trace that every package's entries were opened, and treats
 * the group's packages as sharing their events (see batch-attribution.ts). A loader that dies or hangs
 * costs only the package it was loading: the rest of the group goes on in a fresh loader.
 */
function loadGroup(
  send: Send,
  config: BatchRunnerConfig,
  configPath: string,
  indices: number[],
  exits: Promise<void>[],
): Promise<void> {
  if (indices.length === 0) return Promise.resolve();
  return new Promise((resolve) => {
    // Fewer helper threads: every thread is a ptrace attach under strace, the largest start-up cost.
    const args = ['--v8-pool-size=1', process.argv[1] ?? '', 'load', configPath, indices.join(',')];
    const child = spawn(process.execPath, args, {
      cwd: config.projectDir,
      stdio: ['ignore', 'inherit', 'inherit', 'pipe'],
      detached: true,
      env: { ...process.env, UV_THREADPOOL_SIZE: '2' },
    });
    // Its exit is awaited before `done` (the host's grace period starts after the last loader ended); a
    // loader kept alive past its budget (its exit tampered with) is ended.
    exits.push(
      new Promise((ended) => {
        child.on('exit', () => ended());
        child.on('error', () => ended());
      }),
    );
    let hardStop = setTimeout(() => child.kill('SIGKILL'), config.timeoutMs + 2_000);
    child.on('exit', () => clearTimeout(hardStop));
    let position = -1;
    let current: { index: number; started: number; timer: NodeJS.Timeout } | undefined;
    let ended = false;
    const rest = (): number[] => indices.slice(position + 1);
    const finish = (outcome: Outcome): void => {
      if (!current) return;
      clearTimeout(current.timer);
      send({ type: 'result', index: current.index, ...outcome, ran: true, ms: Date.now() - current.started });
      current = undefined;
    };
    // The loader is gone (or given up on): the package it was loading has its outcome, the rest of the
    // group a new loader.
    const end = (outcome: Outcome): void => {
      if (ended) return;
      ended = true;
      if (!current && position + 1 < indices.length) {
        // It never named the next package: that one is charged with the failure, so every loader makes progress.
        const index = indices[++position] as number;
        send({ type: 'start', index });
        send({ type: 'result', index, ...outcome, ran: true, ms: 0 });
      } else finish(outcome);
      void loadGroup(send, config, configPath, rest(), exits).then(resolve);
    };
    const begin = (index: number): void => {
      if (current || indices[position + 1] !== index) return; // out of order: not ours
      position++;
      clearTimeout(hardStop);
      hardStop = setTimeout(() => child.kill('SIGKILL'), config.timeoutMs + 2_000);
      const timer = setTimeout(() => {
        killGroup(child);
        end({ status: 'timeout', error: 'loading did not finish in time' });
      }, config.timeoutMs);
      current = { index, started: Date.now(), timer };
      send({ type: 'start', index });
    };
    let buffer = '';
    const channel = child.stdio[3] as NodeJS.ReadableStream | null;
    channel?.on('data', (d: Buffer) => {
      buffer += d.toString();
      const lines = buffer.split('\n');
      buffer = lines.pop() ?? '';
      for (const line of lines) {
        let message: Record<string, unknown>;
        try {
          message = JSON.parse(line) as Record<string, unknown>;
        } catch {
          continue;
        }
        if (message.type === 'next' && typeof message.index === 'number') begin(message.index);
        else if (message.type === 'browser' && message.late === true && typeof message.index === 'number') {
          // A late look at a window of a package this loader already loaded (after its last package).
          if (!current && indices.indexOf(message.index) <= position && indices.includes(message.index))
            send(message);
        } else if (!current) continue;
        // The index comes from the runner's own bookkeeping, never from the message.
        else if (message.type === 'finished') {
          const code = typeof message.code === 'number' ? message.code : 1;
          finish({ status: 'completed', code });
        } else if (message.type === 'load' || message.type === 'browser')
          send({ ...message, index: current.index });
      }
    });
    channel?.on('error', () => undefined);
    child.on('error', (error) => end({ status: 'crashed', error: error.message }));
    child.on('close', (code, signal) => {
      if (ended) return;
      if (!current && position === indices.length - 1) {
        ended = true;
        resolve();
        return;
      }
      end({
        status: 'crashed',
        ...(code !== null ? { code } : {}),
        error: `the loader exited before loading finished (${code ?? signal})`,
      });
    });
  });
}

/** Import / browser: packages with something to load, in groups of `groupSize`, `concurrency` loaders at once. */
async function loadAll(send: Send, config: BatchRunnerConfig, configPath: string): Promise<void> {
  const loadable: number[] = [];
  const order = config.loadOrder ?? config.packages.map((_, index) => index);
  for (const index of order) {
    const pkg = config.packages[index];
    if (!pkg) continue;
    if (config.phase === 'browser' ? pkg.browserEntry !== undefined : pkg.entries.length > 0)
      loadable.push(index);
    else send({ type: 'result', index, status: 'completed', code: 0, ran: false, ms: 0 });
  }
  const size = Math.max(1, config.groupSize);
  const groups: number[][] = [];
  for (let i = 0; i < loadable.length; i += size) groups.push(loadable.slice(i, i + size));
  let next = 0;
  const exits: Promise<void>[] = [];
  const worker = async (): Promise<void> => {
    while (next < groups.length) await loadGroup(send, config, configPath, groups[next++] ?? [], exits);
  };
  await Promise.all(Array.from({ length: Math.max(1, config.concurrency) }, worker));
  await Promise.all(exits);
}

async function orchestrate(configPath: string): Promise<void> {
  const send = channelSend(privateChannel(3));
  process.title = 'npm install';
  const config = JSON.parse(readFileSync(configPath, 'utf8')) as BatchRunnerConfig;
  if (config.gate) waitAtGate();
  try {
    if (config.phase === 'install') {
      for (let i = 0; i < config.packages.length; i++) await installOne(send, config, i);
    } else await loadAll(send, config, configPath);
  } catch (error) {
    send({ type: 'runner-error', error: error instanceof Error ? error.message : String(error) });
  }
  send({ type: 'done', code: 0 });
  // Stay alive: the host ends the run after its grace period.
  setInterval(() => undefined, 1 << 30);
}

/** Real milliseconds a package's accelerated timers may take (time-warp.ts). */
const SETTLE_BUDGET_MS = 3_000;

async function loader(configPath: string, group: number[]): Promise<void> {
  // Taken before any package's code runs (it may replace them).
  const exit = process.exit.bind(process);
  const activeResources = process.getActiveResourcesInfo.bind(process);
  const send = syncSend(privateFd(3));
  const config = JSON.parse(readFileSync(configPath, 'utf8')) as BatchRunnerConfig;
  installTimeWarp();
  // Each package's long timers fire in its own window, before it is reported finished.
  const settle = async (): Promise<void> => {
    const budget = Math.min(SETTLE_BUDGET_MS, config.timeoutMs / 4);
    const { fired } = await settleTimers(budget, () => networkInFlight(activeResources()));
    if (fired > 0) send({ type: 'timers', fired });
  };
  let startedAt = realNow();
  // The host reads the package windows off the trace: a failed open of this marker starts each one.
  const marker = `${dirname(dirname(process.argv[1] ?? ''))}/lib/.loading/`;
  const rechecks: { index: number; recheck(send: Send): Promise<void> }[] = [];
  for (const index of group) {
    const pkg = config.packages[index];
    startedAt = realNow();
    try {
      closeSync(openSync(`${marker}${index}`, 'r'));
    } catch {
      // absent: only the attempt matters
    }
    send({ type: 'next', index });
    let code = 1;
    try {
      if (pkg && config.phase === 'browser') {
        const { happyDomPath, projectDir } = config;
        // Each package gets its own window; late hooks are looked for in it when the group is done.
        const loaded = await browser(
          send,
          { happyDomPath, browserEntry: pkg.browserEntry, projectDir },
          { settleMs: 20, afterLoad: settle },
        );
        code = loaded.code;
        rechecks.push({ index, recheck: loaded.recheck });
      } else if (pkg) {
        code = await loadEntries(send, pkg.entries, config.projectDir, true);
        await settle();
      }
    } catch (error) {
      send({ type: 'load', how: config.phase, entry: '', ok: false, error: String(error) });
    }
    send({ type: 'finished', code });
  }
  if (rechecks.length > 0) {
    // Timers get the same moment a package alone would have had, then every window is looked at again.
    await new Promise((resolve) => realTimers.setTimeout(resolve, 300));
    for (const { index, recheck } of rechecks)
      await recheck((message) => send({ ...message, late: true, index })).catch(() => undefined);
  }
  // Pending timers of the packages may still fire for a while, and their requests complete; then it ends.
  const finishedAt = realNow();
  realTimers
    .setInterval(() => {
      const { lingerMs, timeoutMs: capMs } = config;
      const resources = activeResources();
      if (lingerOver({ now: realNow(), startedAt, finishedAt, lingerMs, capMs, resources })) exit(0);
    }, 50)
    .unref();
}

if (process.argv[2] === 'load')
  void loader(process.argv[3] ?? '', (process.argv[4] ?? '').split(',').map(Number));
else void orchestrate(process.argv[2] ?? '');
