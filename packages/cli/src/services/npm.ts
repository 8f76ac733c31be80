/**
 * The only place in the CLI that runs npm (through execa). Every function returns data; nothing
 * here prints. The npm binary is `npm` from PATH unless SECURE_REGISTRY_NPM names another one.
 */
import { join } from 'node:path';
import { execa } from 'execa';
import { RemoteError, UserError, redact } from '@secure-registry/shared';
import type { Env } from './config.js';

export interface NpmRunOptions {
  cwd: string;
  env: Env;
  /** `pipe` captures output (default); `inherit` shows npm's own output to the user. */
  stdio?: 'pipe' | 'inherit';
  timeoutMs?: number;
}

export interface NpmResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  /** The command line, tokens redacted, for messages. */
  command: string;
}

/** The npm executable to run. */
export function npmBinary(env: Env): string {
  return env.SECURE_REGISTRY_NPM?.trim() || 'npm';
}

/** Runs npm with `args`; a non-zero exit is a result, not an exception. Missing npm is a UserError. */
export async function runNpm(args: readonly string[], options: NpmRunOptions): Promise<NpmResult> {
  const bin = npmBinary(options.env);
  const command = redact([bin, ...args].join(' '));
  const stdio = options.stdio ?? 'pipe';
  try {
    const result = await execa(bin, args, {
      cwd: options.cwd,
      env: { ...options.env },
      extendEnv: false,
      reject: false,
      stdin: 'ignore',
      stdout: stdio,
      stderr: stdio,
      ...(options.timeoutMs !== undefined ? { timeout: options.timeoutMs } : {}),
    });
    if (result.timedOut) {
      throw new RemoteError('ERR_SR_NPM_TIMEOUT', `${command} did not finish in ${options.timeoutMs} ms`);
    }
    const failure = (result as { cause?: unknown }).cause as NodeJS.ErrnoException | undefined;
    if (failure?.code === 'ENOENT') throw npmNotFound(bin, failure);
    return {
      exitCode: result.exitCode ?? 1,
      stdout: typeof result.stdout === 'string' ? result.stdout : '',
      stderr: typeof result.stderr === 'string' ? result.stderr : '',
      command,
    };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw npmNotFound(bin, error);
    throw error;
  }
}

function npmNotFound(bin: string, cause: unknown): UserError {
  return new UserError('ERR_SR_NPM_NOT_FOUND', `cannot run ${bin}: not found on PATH`, {
    hint: 'install Node.js with npm, or set SECURE_REGISTRY_NPM to the npm executable',
    cause,
  });
}

/** Throws a RemoteError with npm's own output when `result` failed. */
export function assertNpmOk(result: NpmResult, what: string): NpmResult {
  if (result.exitCode === 0) return result;
  const output = lastLines(`${result.stderr}\n${result.stdout}`, 15);
  throw new RemoteError('ERR_SR_NPM_FAILED', `${what} failed: ${result.command} exited ${result.exitCode}`, {
    hint: output ? redact(output) : undefined,
  });
}

/** The last `count` non-empty lines of `text`. */
const NETWORK_ERRORS = /\b(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EAI_AGAIN|ENOTFOUND|EHOSTUNREACH|ENETUNREACH)\b/;

/** The error for a failed `resolveLockfile`: a network failure (exit 4) or bad input (exit 3). */
export function resolveFailure(result: NpmResult, what: string): UserError | RemoteError {
  const output = redact(lastLines(`${result.stderr}\n${result.stdout}`, 15));
  const ErrorType = NETWORK_ERRORS.test(output) ? RemoteError : UserError;
  return new ErrorType('ERR_SR_RESOLVE_FAILED', `npm could not resolve ${what}:\n${output}`);
}

export function lastLines(text: string, count: number): string {
  return text
    .split(/\r?\n/)
    .filter((line) => line.trim() !== '')
    .slice(-count)
    .join('\n');
}

export type NpmConfigLocation = 'user' | 'project';

/** `npm config` refuses to run in a workspace member's directory (ENOWORKSPACES) without this. */
const NOT_WORKSPACES = ['--workspaces=false'] as const;

/** The file npm writes for `location`: `npm config get userconfig`, or `.npmrc` in `npm prefix`. */
export async function npmConfigFile(options: {
  location: NpmConfigLocation;
  cwd: string;
  env: Env;
}): Promise<string> {
  const args = options.location === 'user' ? ['config', 'get', 'userconfig', ...NOT_WORKSPACES] : ['prefix'];
  const result = assertNpmOk(
    await runNpm(args, { cwd: options.cwd, env: options.env }),
    `asking npm for its ${options.location} config file`,
  );
  const value = result.stdout.trim();
  if (!value) throw new RemoteError('ERR_SR_NPM_FAILED', `npm ${args.join(' ')} printed nothing`);
  return options.location === 'user' ? value : join(value, '.npmrc');
}

/** `npm config set key=value --location=<location>`. */
export async function npmConfigSet(options: {
  key: string;
  value: string;
  location: NpmConfigLocation;
  cwd: string;
  env: Env;
}): Promise<void> {
  assertNpmOk(
    await runNpm(
      [
        'config',
        'set',
        `${options.key}=${options.value}`,
        `--location=${options.location}`,
        ...NOT_WORKSPACES,
      ],
      {
        cwd: options.cwd,
        env: options.env,
      },
    ),
    `setting ${options.key} in the ${options.location} npm config`,
  );
}

/** `npm config delete key --location=<location>`. */
export async function npmConfigDelete(options: {
  key: string;
  location: NpmConfigLocation;
  cwd: string;
  env: Env;
}): Promise<void> {
  assertNpmOk(
    await runNpm(['config', 'delete', options.key, `--location=${options.location}`, ...NOT_WORKSPACES], {
      cwd: options.cwd,
      env: options.env,
    }),
    `deleting ${options.key} from the ${options.location} npm config`,
  );
}

/** Flags that keep npm quiet about things that are not ours to show (funding, update notices). */
export const QUIET_NPM_FLAGS = ['--no-fund', '--no-update-notifier'] as const;

/**
 * Resolves what `npm install [args]` would install, writing only package-lock.json (and
 * package.json when `args` add a package): no scripts, no node_modules, against `registry`.
 */
export async function resolveLockfile(options: {
  cwd: string;
  env: Env;
  registry: string;
  args: readonly string[];
  timeoutMs?: number;
}): Promise<NpmResult> {
  return runNpm(
    [
      'install',
      ...options.args,
      '--package-lock-only',
      '--ignore-scripts',
      '--no-audit',
      ...QUIET_NPM_FLAGS,
      '--registry',
      options.registry,
    ],
    { cwd: options.cwd, env: options.env, ...timeout(options.timeoutMs) },
  );
}

/**
 * The real install through the vetted registry: `npm install [args]` or `npm ci [args]`, with
 * lockfile `resolved` URLs at any registry host rewritten to `registry`
 * (`--replace-registry-host=always`). npm's output goes to the user.
 */
export async function installThrough(options: {
  cwd: string;
  env: Env;
  registry: string;
  command: 'install' | 'ci';
  args: readonly string[];
  stdio?: 'pipe' | 'inherit';
  timeoutMs?: number;
}): Promise<NpmResult> {
  return runNpm(
    [
      options.command,
      ...options.args,
      ...QUIET_NPM_FLAGS,
      '--registry',
      options.registry,
      '--replace-registry-host=always',
    ],
    { cwd: options.cwd, env: options.env, stdio: options.stdio ?? 'inherit', ...timeout(options.timeoutMs) },
  );
}

function timeout(ms: number | undefined): { timeoutMs?: number } {
  return ms === undefined ? {} : { timeoutMs: ms };
}
