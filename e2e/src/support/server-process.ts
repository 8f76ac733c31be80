import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { loadScaledTimeout } from '@secure-registry/shared';
import { cleanEnv } from './npm-env.js';
import { REPO_ROOT } from './paths.js';

export const SERVER_BIN = path.join(REPO_ROOT, 'packages', 'server', 'dist', 'main.js');

export interface ServerProcess {
  url: string;
  child: ChildProcess;
  /** Everything the server wrote to stderr so far. */
  stderr(): string;
  /** Resolves with the exit code (or signal) once the process has exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Starts the built `secure-registry-server` as a process on 127.0.0.1 with a free port and waits
 * for its "listening on <url>" line (`timeoutMs` is idle-machine time, scaled by the load). The sandbox stage is off unless `env` sets `SR_SANDBOX`.
 */
export async function startServerProcess(
  env: Record<string, string>,
  timeoutMs = 30_000,
): Promise<ServerProcess> {
  const child = spawn(process.execPath, [SERVER_BIN], {
    cwd: REPO_ROOT,
    env: cleanEnv({ SR_HOST: '127.0.0.1', SR_PORT: '0', SR_LOG_LEVEL: 'warn', SR_SANDBOX: 'off', ...env }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stdout.resume();
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const url = await new Promise<string>((resolve, reject) => {
    const cancel = loadScaledTimeout(timeoutMs, (budget) =>
      reject(new Error(`server did not start (${budget.describe()}):\n${stderr}`)),
    );
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
      const match = /listening on (http:\/\/\S+)/.exec(stderr);
      if (match) {
        cancel();
        resolve(match[1]!.replace(/\/$/, ''));
      }
    });
    void exited.then(({ code, signal }) => {
      cancel();
      reject(new Error(`server exited (${code ?? signal}) before listening:\n${stderr}`));
    });
  });
  return { url, child, stderr: () => stderr, exited };
}
