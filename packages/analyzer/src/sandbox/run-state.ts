// The host state of a run: a private directory (CA key, sink logs, trace) and the run's size-limited
// tmpfs. Each run's directory names its owner (pid and process start time); state whose owner is
// gone — a server killed with SIGKILL mid-run — is swept before this process stages its first run.
import { readFileSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { mountTmpfs, unmount } from './host-ops.js';
import { hostPathOf, hostPrivilege, startRunNamespaces, type RunNamespaces } from './rootless.js';
import { INIT_PREFIX } from './sandbox-process.js';

/** Where run state lives on the host. */
export const RUN_STATE_ROOT = '/tmp';
const HOST_PREFIX = 'sr-host-';
const FS_PREFIX = 'sr-fs-';
const OWNER_FILE = 'owner.json';

interface Owner {
  pid: number;
  /** Field 22 of /proc/PID/stat: tells a live owner from a new process that reuses its pid. */
  startTime: string;
  runRoot: string;
}

function startTimeOf(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count from the last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

function alive(owner: Owner): boolean {
  return startTimeOf(owner.pid) === owner.startTime;
}

export interface RunDirs {
  id: string;
  hostDir: string;
  runRoot: string;
  mounted: boolean;
  /** Rootless mode: the namespaces holding the run's tmpfs (runRoot reaches it through them). */
  namespaces?: RunNamespaces;
}

/**
 * Creates a run's host directory (0700, with its owner) and tmpfs. The owner is written before the
 * tmpfs exists, so a sweep never meets a run root without an owner file naming it.
 */
export async function createRunDirs(id: string, diskMb: number, details: string[]): Promise<RunDirs> {
  await sweepOnce();
  const hostDir = await mkdtemp(join(RUN_STATE_ROOT, HOST_PREFIX));
  await chmod(hostDir, 0o700);
  const runRoot = join(RUN_STATE_ROOT, `${FS_PREFIX}${id}`);
  const owner: Owner = { pid: process.pid, startTime: startTimeOf(process.pid) ?? '', runRoot };
  await writeFile(join(hostDir, OWNER_FILE), JSON.stringify(owner), { mode: 0o600 });
  await mkdir(runRoot, { mode: 0o755 });
  if (hostPrivilege() === 'rootless') {
    const namespaces = await startRunNamespaces({ mountDir: runRoot, sizeMb: diskMb }).catch(
      async (error: unknown) => {
        await rm(runRoot, { recursive: true, force: true });
        await rm(hostDir, { recursive: true, force: true });
        throw error;
      },
    );
    return { id, hostDir, runRoot: hostPathOf(namespaces), mounted: true, namespaces };
  }
  const mounted = await mountTmpfs(runRoot, { sizeMb: diskMb, uid: 0, gid: 0 });
  if (!mounted) details.push('tmpfs could not be mounted: no disk limit for this run');
  return { id, hostDir, runRoot, mounted };
}

async function mountedPaths(): Promise<Set<string>> {
  const text = await readFile('/proc/self/mounts', 'utf8').catch(() => '');
  return new Set(text.split('\n').map((line) => line.split(' ')[1] ?? ''));
}

export interface SweepResult {
  /** Run directories and tmpfs roots removed, by path. */
  removed: string[];
}

/**
 * Removes the run state of owners that are gone: each orphaned run's tmpfs (unmounted) and host
 * directory. A directory without an owner file (a run being created this instant, or state from
 * before owners were recorded) is left alone.
 */
export async function sweepAbandonedRuns(root = RUN_STATE_ROOT): Promise<SweepResult> {
  const removed: string[] = [];
  const names = await readdir(root).catch(() => [] as string[]);
  const mounts = await mountedPaths();
  for (const name of names.filter((entry) => entry.startsWith(HOST_PREFIX))) {
    const hostDir = join(root, name);
    let owner: Owner;
    try {
      owner = JSON.parse(await readFile(join(hostDir, OWNER_FILE), 'utf8')) as Owner;
    } catch {
      continue;
    }
    if (alive(owner)) continue;
    // The owner file is ours (0600 in a 0700 directory); still, only a run root is ever removed.
    if (basename(owner.runRoot).startsWith(FS_PREFIX)) {
      if (mounts.has(owner.runRoot)) await unmount(owner.runRoot);
      await rm(owner.runRoot, { recursive: true, force: true });
      removed.push(owner.runRoot);
    }
    await rm(hostDir, { recursive: true, force: true });
    removed.push(hostDir);
  }
  for (const name of names.filter((entry) => entry.startsWith(INIT_PREFIX))) {
    const pid = Number(name.slice(INIT_PREFIX.length).split('-')[0]);
    if (!Number.isInteger(pid) || pid <= 0 || startTimeOf(pid) !== undefined) continue;
    // The owner's static layers (static-layer.ts) are tmpfs mounts inside its directory.
    for (const point of mounts) if (point.startsWith(`${join(root, name)}/`)) await unmount(point);
    await rm(join(root, name), { recursive: true, force: true });
    removed.push(join(root, name));
  }
  return { removed };
}

let swept: Promise<SweepResult> | undefined;

/** Sweeps once per process, before its first run. */
export function sweepOnce(): Promise<SweepResult> {
  swept ??= sweepAbandonedRuns().catch(() => ({ removed: [] }));
  return swept;
}
