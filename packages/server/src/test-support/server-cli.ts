import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { scaledMs } from '@secure-registry/shared';

const MAIN = fileURLToPath(new URL('../main.js', import.meta.url));

/** Runs the built `secure-registry-server` as a subprocess with only PATH, HOME and `env`. */
export function runServerCli(
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [MAIN, ...args],
      { env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env }, timeout: scaledMs(30_000) },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}
