// Host-side side effects of a run: commands, tmpfs mounts, cgroups, killing process trees.
import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { mkdir, readdir, readFile, rmdir, writeFile } from 'node:fs/promises';

export interface CommandResult {
  code: number | null;
  stdout: string;
  stderr: string;
  error?: string;
}

/** The executable `name` on the host's PATH (and the sbin directories), if there is one. */
export function findTool(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin')
    .split(':')
    .concat(['/usr/sbin', '/sbin'])) {
    try {
      accessSync(`${dir}/${name}`, constants.X_OK);
      return `${dir}/${name}`;
    } catch {
      // keep looking
    }
  }
  return undefined;
}

/** Runs a trusted host command to completion (never package code). */
export function runCommand(
  command: string,
  args: string[],
  options: { timeoutMs?: number; input?: string } = {},
): Promise<CommandResult> {
  return new Promise((resolve) => {
    let stdout = '';
    let stderr = '';
    let settled = false;
    const child = spawn(command, args, {
      stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 10_000);
    child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', (error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ code: null, stdout, stderr, error: error.message });
    });
    child.on('close', (code) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin?.on('error', () => undefined);
    if (options.input !== undefined) child.stdin?.end(options.input);
  });
}

export async function mountTmpfs(
  dir: string,
  options: { sizeMb: number; uid: number; gid: number },
): Promise<boolean> {
  const result = await runCommand('mount', [
    '-t',
    'tmpfs',
    '-o',
    `size=${options.sizeMb}m,mode=0755,uid=${options.uid},gid=${options.gid},nosuid,nodev`,
    'tmpfs',
    dir,
  ]);
  return result.code === 0;
}

export async function unmount(dir: string): Promise<void> {
  const result = await runCommand('umount', [dir]);
  if (result.code !== 0) await runCommand('umount', ['-l', dir]);
}

const CGROUP_ROOT = '/sys/fs/cgroup';

export interface Cgroups {
  dirs: string[];
  memoryDir?: string;
  pidsLimited: boolean;
  details: string[];
}

/** Creates cgroup v1 (memory, pids) or v2 groups with limits; missing controllers are reported, not fatal. */
export async function createCgroups(
  name: string,
  limits: { memoryMb: number; maxProcesses: number },
): Promise<Cgroups> {
  const result: Cgroups = { dirs: [], pidsLimited: false, details: [] };
  const v2 = await readFile(`${CGROUP_ROOT}/cgroup.controllers`, 'utf8').catch(() => undefined);
  const attempts: { dir: string; file: string; value: string; memory: boolean }[] =
    v2 !== undefined
      ? [
          {
            dir: `${CGROUP_ROOT}/${name}`,
            file: 'memory.max',
            value: String(limits.memoryMb * 1024 * 1024),
            memory: true,
          },
          {
            dir: `${CGROUP_ROOT}/${name}`,
            file: 'pids.max',
            value: String(limits.maxProcesses),
            memory: false,
          },
        ]
      : [
          {
            dir: `${CGROUP_ROOT}/memory/${name}`,
            file: 'memory.limit_in_bytes',
            value: String(limits.memoryMb * 1024 * 1024),
            memory: true,
          },
          {
            dir: `${CGROUP_ROOT}/pids/${name}`,
            file: 'pids.max',
            value: String(limits.maxProcesses),
            memory: false,
          },
        ];
  for (const attempt of attempts) {
    try {
      await mkdir(attempt.dir, { recursive: true });
      await writeFile(`${attempt.dir}/${attempt.file}`, attempt.value);
      if (!result.dirs.includes(attempt.dir)) result.dirs.push(attempt.dir);
      if (attempt.memory) result.memoryDir = attempt.dir;
      else result.pidsLimited = true;
    } catch (error) {
      result.details.push(`cgroup ${attempt.file} unavailable: ${(error as Error).message}`);
    }
  }
  return result;
}

export async function removeCgroups(cgroups: Cgroups): Promise<void> {
  for (const dir of cgroups.dirs) await rmdir(dir).catch(() => undefined);
}

/** Whether the memory cgroup killed something for running out of memory. */
export async function sawOutOfMemory(cgroups: Cgroups): Promise<boolean> {
  if (!cgroups.memoryDir) return false;
  const v1 = await readFile(`${cgroups.memoryDir}/memory.oom_control`, 'utf8').catch(() => '');
  const v2 = await readFile(`${cgroups.memoryDir}/memory.events`, 'utf8').catch(() => '');
  return /oom_kill [1-9]/.test(v1) || /oom_kill [1-9]/.test(v2);
}

/** All descendants of `pid` (children first discovered through /proc/<pid>/task/<tid>/children). */
export async function descendants(pid: number): Promise<number[]> {
  const out: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    const current = queue.shift() as number;
    const tasks = await readdir(`/proc/${current}/task`).catch(() => [] as string[]);
    for (const tid of tasks) {
      const text = await readFile(`/proc/${current}/task/${tid}/children`, 'utf8').catch(() => '');
      for (const child of text.split(/\s+/).filter(Boolean).map(Number)) {
        if (!out.includes(child)) {
          out.push(child);
          queue.push(child);
        }
      }
    }
  }
  return out;
}

export async function cgroupPids(cgroups: Cgroups): Promise<number[]> {
  const pids = new Set<number>();
  for (const dir of cgroups.dirs) {
    const text = await readFile(`${dir}/cgroup.procs`, 'utf8').catch(() => '');
    for (const pid of text.split('\n').filter(Boolean)) pids.add(Number(pid));
  }
  return [...pids];
}

export function killQuietly(pid: number, signal: NodeJS.Signals = 'SIGKILL'): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}
