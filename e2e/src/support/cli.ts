import { mkdtemp } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { cleanEnv } from './npm-env.js';
import { CLI_BIN, REPO_ROOT } from './paths.js';
import { runCommand } from './project.js';
import type { CommandResult } from './project.js';

export interface CliHome {
  dataDir: string;
  configDir: string;
}

/** Fresh data and config directories for the CLI's local mode, under `parent` (default: the OS tmpdir). */
export async function makeCliHome(parent = os.tmpdir()): Promise<CliHome> {
  const base = await mkdtemp(path.join(parent, 'sr-home-'));
  return { dataDir: path.join(base, 'data'), configDir: path.join(base, 'config') };
}

/**
 * Runs the built CLI (`packages/cli/dist/bin.js`) with this Node in local mode, as CI would:
 * `CI=1`, data and config directories from `home`, no hosted server configured. The embedded
 * server's dynamic stage (the sandbox) is off unless `sandbox: true`: packages are then judged on
 * the static stage alone, which keeps CLI tests to seconds.
 */
export function runCli(
  args: readonly string[],
  options: {
    home: CliHome;
    cwd?: string;
    env?: Record<string, string | undefined>;
    timeoutMs?: number;
    sandbox?: boolean;
  },
): Promise<CommandResult> {
  const env = cleanEnv({
    CI: '1',
    NO_COLOR: '1',
    SR_SANDBOX: options.sandbox ? 'on' : 'off',
    SECURE_REGISTRY_DATA_DIR: options.home.dataDir,
    SECURE_REGISTRY_CONFIG_DIR: options.home.configDir,
    ...options.env,
  });
  return runCommand(process.execPath, [CLI_BIN, ...args], {
    cwd: options.cwd ?? REPO_ROOT,
    env,
    timeoutMs: options.timeoutMs ?? 120_000,
  });
}

/** Describes a CLI result for assertion messages. */
export function describeResult(result: CommandResult): string {
  const tail = (text: string): string => (text.length > 4000 ? `…${text.slice(-4000)}` : text);
  return `exit ${result.code} (signal ${result.signal}) after ${Math.round(result.durationMs)} ms\n--- stdout\n${tail(result.stdout)}\n--- stderr\n${tail(result.stderr)}`;
}
