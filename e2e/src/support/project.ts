import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadScaledTimeout } from '@secure-registry/shared';
import { cleanEnv } from './npm-env.js';

export interface ProjectOptions {
  devDependencies?: Record<string, string>;
  name?: string;
  /** Extra arguments for `npm install`. */
  npmArgs?: string[];
}

export interface Project {
  dir: string;
  lockfile: {
    lockfileVersion: number;
    packages: Record<
      string,
      { version?: string; resolved?: string; integrity?: string; [key: string]: unknown }
    >;
  };
}

export interface CommandResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  durationMs: number;
}

/**
 * Runs a command to completion, capturing its output; rejects only when it cannot start. A
 * `timeoutMs` is idle-machine time, scaled by the load.
 */
export function runCommand(
  command: string,
  args: readonly string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs?: number; input?: string },
): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(command, args, { cwd: options.cwd, env: options.env ?? cleanEnv(), stdio: 'pipe' });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const cancel = options.timeoutMs
      ? loadScaledTimeout(options.timeoutMs, (budget) => {
          stderr += `\n[test harness] killed (${budget.describe()})`;
          child.kill('SIGKILL');
        })
      : undefined;
    child.once('error', (error) => {
      cancel?.();
      reject(error);
    });
    child.once('close', (code, signal) => {
      cancel?.();
      resolve({ code, signal, stdout, stderr, durationMs: performance.now() - started });
    });
    // A command that exits before reading its input closes the pipe: EPIPE is expected then.
    child.stdin.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EPIPE') reject(error);
    });
    child.stdin.end(options.input ?? '');
  });
}

/**
 * Writes a package.json with `deps` into `dir` and creates a real package-lock.json with the npm
 * client from PATH, resolving against `registryUrl` (no scripts run, nothing installed).
 */
export async function makeProject(
  dir: string,
  deps: Record<string, string>,
  registryUrl: string,
  options: ProjectOptions = {},
): Promise<Project> {
  await mkdir(dir, { recursive: true });
  const manifest = {
    name: options.name ?? 'fixture-project',
    version: '1.0.0',
    private: true,
    dependencies: deps,
    ...(options.devDependencies ? { devDependencies: options.devDependencies } : {}),
  };
  await writeFile(path.join(dir, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  const scratch = await mkdtemp(path.join(os.tmpdir(), 'sr-npm-'));
  try {
    const userconfig = path.join(scratch, 'npmrc');
    await writeFile(userconfig, '');
    const args = [
      'install',
      '--package-lock-only',
      '--ignore-scripts',
      '--no-audit',
      '--no-fund',
      '--no-update-notifier',
      '--registry',
      registryUrl,
      '--cache',
      path.join(scratch, 'cache'),
      '--userconfig',
      userconfig,
      ...(options.npmArgs ?? []),
    ];
    const result = await runCommand('npm', args, { cwd: dir, timeoutMs: 120_000 });
    if (result.code !== 0) {
      throw new Error(`npm ${args.join(' ')} failed (${result.code}):\n${result.stderr}${result.stdout}`);
    }
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
  const lockfile = JSON.parse(
    await readFile(path.join(dir, 'package-lock.json'), 'utf8'),
  ) as Project['lockfile'];
  return { dir, lockfile };
}
