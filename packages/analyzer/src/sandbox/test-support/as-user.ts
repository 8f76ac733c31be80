// Runs test-support/run-phase-main.js as an unprivileged uid (setpriv, when this process is root) with
// a HOME of its own, and parses what it printed.
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BatchRun, BatchRunOptions } from '../batch-types.js';
import type { SandboxSupport } from '../support.js';
import type { PhaseRun, PhaseRunOptions } from '../types.js';

const MAIN = join(dirname(fileURLToPath(import.meta.url)), 'run-phase-main.js');

/** The setpriv prefix that runs a command as `uid` (none when this process is not root: it runs as itself). */
export function asUid(uid: number): string[] {
  if (process.getuid?.() !== 0) return [];
  return ['setpriv', `--reuid=${uid}`, `--regid=${uid}`, '--clear-groups', '--'];
}

/** Runs a command as `uid` to completion. */
export function runAs(
  uid: number,
  argv: string[],
  env: Record<string, string>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const [command, ...args] = [...asUid(uid), ...argv];
  return new Promise((resolve, reject) => {
    const child = spawn(command ?? 'false', args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

async function runMain<T>(uid: number, home: string, ...arg: string[]): Promise<{ uid: number; result: T }> {
  const env = {
    PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    HOME: home,
    LANG: 'C.UTF-8',
  };
  const out = await runAs(uid, [process.execPath, MAIN, ...arg], env);
  const line = out.stdout.trim().split('\n').pop() ?? '';
  if (out.code !== 0 || !line.startsWith('{'))
    throw new Error(`run-phase-main as uid ${uid} failed (exit ${out.code}): ${out.stderr.slice(-2000)}`);
  return JSON.parse(line) as { uid: number; result: T };
}

export const supportAs = (uid: number, home: string) => runMain<SandboxSupport>(uid, home, 'support');

export const runPhaseAs = (uid: number, home: string, options: PhaseRunOptions) =>
  runMain<PhaseRun>(uid, home, 'phase', JSON.stringify(options));

export const runBatchAs = (uid: number, home: string, options: BatchRunOptions) =>
  runMain<BatchRun>(uid, home, 'batch', JSON.stringify(options));
