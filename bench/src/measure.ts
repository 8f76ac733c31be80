import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';

export interface Measurement {
  code: number | null;
  signal: NodeJS.Signals | null;
  wallMs: number;
  /** Peak resident set size of the process in KiB (`VmHWM`), or undefined where /proc is missing. */
  peakRssKiB: number | undefined;
  stdout: string;
  stderr: string;
}

function readPeakRss(pid: number): number | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = /^VmHWM:\s+(\d+)\s+kB/m.exec(status);
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Runs a command and measures its wall time from spawn to exit, polling /proc for its peak RSS
 * (`VmHWM` is monotonic, so the last successful read is the peak up to a few milliseconds).
 */
export function measure(
  command: string,
  args: readonly string[],
  options: { cwd: string; env: NodeJS.ProcessEnv; pollMs?: number; timeoutMs?: number },
): Promise<Measurement> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let peak: number | undefined;
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const poll = (): void => {
      if (child.pid === undefined) return;
      const value = readPeakRss(child.pid);
      if (value !== undefined) peak = Math.max(peak ?? 0, value);
    };
    const poller = setInterval(poll, options.pollMs ?? 10);
    const killer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 30 * 60_000);
    child.once('error', (error) => {
      clearInterval(poller);
      clearTimeout(killer);
      reject(error);
    });
    // `exit` fires before the pipes drain; the wall time stops there.
    let wallMs = 0;
    child.once('exit', () => {
      wallMs = performance.now() - started;
    });
    child.once('close', (code, signal) => {
      clearInterval(poller);
      clearTimeout(killer);
      resolve({
        code,
        signal,
        wallMs: wallMs || performance.now() - started,
        peakRssKiB: peak,
        stdout,
        stderr,
      });
    });
  });
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  if (sorted.length === 0) return Number.NaN;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
