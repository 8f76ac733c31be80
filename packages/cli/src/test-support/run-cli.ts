import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { loadScaledTimeout } from '@secure-registry/shared';

export const BIN = fileURLToPath(new URL('../bin.js', import.meta.url));

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs the built CLI as a subprocess with exactly the given environment (plus PATH); killed after
 * `timeoutMs` of idle-machine time, scaled by the load.
 */
export function runCli(
  args: string[],
  env: Record<string, string>,
  timeoutMs = 60_000,
  cwd?: string,
): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      // SR_SANDBOX=off unless asked for: local mode's server would otherwise run the sandbox phases.
      env: { PATH: process.env.PATH ?? '', SR_SANDBOX: process.env.SR_SANDBOX ?? 'off', ...env },
      cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const cancel = loadScaledTimeout(timeoutMs, () => child.kill('SIGKILL'));
    child.on('error', reject);
    child.on('close', (code) => {
      cancel();
      resolve({ code, stdout, stderr });
    });
  });
}
