// Runs INSIDE the sandbox (node builtins only): plays npm for a whole tree of packages. Install phase:
// each package's lifecycle scripts in the given (dependency) order, each script in its own `sh -c` with
// cwd in the package and npm's environment. Import / browser phases: one fresh Node process per package
// (`npm-cli.js load <config> <index>`), a few at a time. Every package's processes start as direct
// children of this runner, which is how the host attributes events (process tree). Reports to the host
// on fd 3 (reopened close-on-exec so package processes cannot write to it); a package's loader reports
// through its own pipe and the runner stamps its messages with the package's index.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, createWriteStream, openSync, readFileSync } from 'node:fs';
import { browser, lingerOver, loadEntries, type Send } from './load-entries.js';

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
  /** Loader processes at once (import / browser). */
  concurrency: number;
  packages: BatchRunnerPackage[];
}

/** A write stream on `fd` through a new close-on-exec descriptor: children never inherit the channel. */
function privateChannel(fd: number): NodeJS.WritableStream {
  try {
    const reopened = openSync(`/proc/self/fd/${fd}`, 'w');
    closeSync(fd);
    return createWriteStream('', { fd: reopened });
  } catch {
    return createWriteStream('', { fd });
  }
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

function loadOne(
  send: Send,
  config: BatchRunnerConfig,
  configPath: string,
  index: number,
  exits: Promise<void>[],
): Promise<void> {
  const pkg = config.packages[index];
  if (!pkg || (config.phase === 'browser' ? pkg.browserEntry === undefined : pkg.entries.length === 0)) {
    send({ type: 'result', index, status: 'completed', code: 0, ran: false, ms: 0 });
    return Promise.resolve();
  }
  return new Promise((resolve) => {
    const started = Date.now();
    send({ type: 'start', index });
    // Fewer helper threads: every thread is a ptrace attach under strace, the largest start-up cost.
    const args = ['--v8-pool-size=1', process.argv[1] ?? '', 'load', configPath, String(index)];
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
    const hardStop = setTimeout(() => child.kill('SIGKILL'), config.timeoutMs + 2_000);
    child.on('exit', () => clearTimeout(hardStop));
    let settled = false;
    const settle = (outcome: Outcome): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      send({ type: 'result', index, ...outcome, ran: true, ms: Date.now() - started });
      resolve();
    };
    const timer = setTimeout(() => {
      killGroup(child);
      settle({ status: 'timeout', error: 'loading did not finish in time' });
    }, config.timeoutMs);
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
        // The index comes from the channel, never from the message.
        if (message.type === 'finished') {
          const code = typeof message.code === 'number' ? message.code : 1;
          settle({ status: 'completed', code });
        } else if (message.type === 'load' || message.type === 'browser') send({ ...message, index });
      }
    });
    channel?.on('error', () => undefined);
    child.on('error', (error) => settle({ status: 'crashed', error: error.message }));
    child.on('close', (code, signal) =>
      settle({
        status: 'crashed',
        code: code ?? undefined,
        error: `the loader exited before loading finished (${code ?? signal})`,
      }),
    );
  });
}

async function orchestrate(configPath: string): Promise<void> {
  const send = channelSend(privateChannel(3));
  process.title = 'npm install';
  const config = JSON.parse(readFileSync(configPath, 'utf8')) as BatchRunnerConfig;
  try {
    if (config.phase === 'install') {
      for (let i = 0; i < config.packages.length; i++) await installOne(send, config, i);
    } else {
      let next = 0;
      const exits: Promise<void>[] = [];
      const worker = async (): Promise<void> => {
        while (next < config.packages.length) await loadOne(send, config, configPath, next++, exits);
      };
      await Promise.all(Array.from({ length: Math.max(1, config.concurrency) }, worker));
      await Promise.all(exits);
    }
  } catch (error) {
    send({ type: 'runner-error', error: error instanceof Error ? error.message : String(error) });
  }
  send({ type: 'done', code: 0 });
  // Stay alive: the host ends the run after its grace period.
  setInterval(() => undefined, 1 << 30);
}

async function loader(configPath: string, index: number): Promise<void> {
  const startedAt = Date.now();
  // Taken before the package's code runs (it may replace them).
  const exit = process.exit.bind(process);
  const activeResources = process.getActiveResourcesInfo.bind(process);
  const send = channelSend(privateChannel(3));
  const config = JSON.parse(readFileSync(configPath, 'utf8')) as BatchRunnerConfig;
  const pkg = config.packages[index];
  let code = 1;
  try {
    if (pkg && config.phase === 'browser') {
      const { happyDomPath, projectDir } = config;
      code = await browser(send, { happyDomPath, browserEntry: pkg.browserEntry, projectDir });
    } else if (pkg) code = await loadEntries(send, pkg.entries, config.projectDir, true);
  } catch (error) {
    send({ type: 'load', how: config.phase, entry: '', ok: false, error: String(error) });
  }
  send({ type: 'finished', code });
  // Pending timers of the package may still fire for a while, and its requests complete; then it ends.
  const finishedAt = Date.now();
  setInterval(() => {
    const { lingerMs, timeoutMs: capMs } = config;
    const resources = activeResources();
    if (lingerOver({ now: Date.now(), startedAt, finishedAt, lingerMs, capMs, resources })) exit(0);
  }, 50).unref();
}

if (process.argv[2] === 'load') void loader(process.argv[3] ?? '', Number(process.argv[4]));
else void orchestrate(process.argv[2] ?? '');
