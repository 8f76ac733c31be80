// When the grace period after a run's `done` may end early: once nothing of the package is left that
// could still act. The grace exists for what a package leaves behind — a detached process that sleeps,
// then beacons; a connection whose bytes are still on their way to the fake internet. When the runner
// itself never ran package code (a batch's orchestrator, npm playing an install phase), the host can
// tell both from outside: every process of the run is in its cgroup, and the sandbox's processes that
// are not the desktop's planned ones (process-tree.ts) are the package's; every byte on its way is in a
// socket queue of the run's network namespace. Neither is a guess about timing: while either is there
// the grace runs on, up to its full length. Whatever cannot be read counts as "not quiet".
import { readFile } from 'node:fs/promises';
import { cgroupPids, type Cgroups } from './host-ops.js';
import { deadline, sleep } from './sandbox-process.js';

/** The NSpid line of /proc/PID/status: the pid in each pid namespace, outermost first. */
function nsPids(status: string): number[] | undefined {
  const line = /^NSpid:\s*(.+)$/m.exec(status)?.[1];
  return line ? line.trim().split(/\s+/).map(Number) : undefined;
}

let ownDepth: number | undefined;
async function ownNamespaceDepth(): Promise<number | undefined> {
  ownDepth ??= nsPids(await readFile('/proc/self/status', 'utf8').catch(() => ''))?.length;
  return ownDepth;
}

/**
 * The cgroup's living processes that run in a pid namespace below ours (the sandbox's), as
 * `{ pid: their pid in that namespace, comm }`; undefined when that cannot be read (no cgroup, no
 * NSpid in /proc: an old kernel).
 */
export async function sandboxProcesses(
  cgroups: Cgroups,
): Promise<{ pid: number; comm: string }[] | undefined> {
  const depth = await ownNamespaceDepth();
  if (cgroups.dirs.length === 0 || depth === undefined) return undefined;
  const found: { pid: number; comm: string }[] = [];
  for (const hostPid of await cgroupPids(cgroups)) {
    const status = await readFile(`/proc/${hostPid}/status`, 'utf8').catch(() => undefined);
    if (status === undefined) continue; // gone since cgroup.procs was read
    if (/^State:\s*[ZX]/m.test(status)) continue;
    const pids = nsPids(status);
    if (!pids) return undefined;
    if (pids.length <= depth) continue; // the host's side: sh, strace, nsenter, bubblewrap's monitor
    found.push({ pid: pids[pids.length - 1] as number, comm: /^Name:\s*(.*)$/m.exec(status)?.[1] ?? '' });
  }
  return found;
}

/**
 * Whether every socket of one /proc/net table (`tcp`, `tcp6`, `udp`, `udp6`) has nothing queued: no
 * unread bytes or datagram, no connection waiting to be accepted, nothing unsent (a closed socket's
 * bytes still on their way).
 */
export function queuesEmpty(table: string, text: string): boolean {
  for (const line of text.split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 5) continue;
    const [tx, rx] = (fields[4] ?? '').split(':');
    // A listening socket's rx is its accept backlog, its tx the backlog limit.
    const listening = table.startsWith('tcp') && fields[3] === '0A';
    if (parseInt(rx ?? 'x', 16) !== 0 || (!listening && parseInt(tx ?? 'x', 16) !== 0)) return false;
  }
  return true;
}

/** queuesEmpty for every table of the network namespace of process `netPid`; false when one cannot be read. */
export async function socketsDrained(netPid: number): Promise<boolean> {
  for (const table of ['tcp', 'tcp6', 'udp', 'udp6']) {
    const text = await readFile(`/proc/${netPid}/net/${table}`, 'utf8').catch(() => undefined);
    if (text === undefined || !queuesEmpty(table, text)) return false;
  }
  return true;
}

export interface GraceEnd {
  ms: number;
  /** `quiet`: nothing of the package left; `elapsed`: the full grace; `exited`: the sandbox ended. */
  ended: 'quiet' | 'elapsed' | 'exited';
  /** What kept it going to the end (`elapsed`): the package's processes still running, queued bytes. */
  left?: string;
}

/**
 * Waits out the grace period: until the sandbox exits, `graceMs` pass, or — when `quiet` is given —
 * no process other than the `planned` ones is left in the sandbox and the network namespace of
 * `quiet.netPid` has nothing queued.
 */
export async function waitOutGrace(options: {
  graceMs: number;
  exited: Promise<unknown>;
  quiet?: { cgroups: Cgroups; planned: ReadonlySet<number>; netPid: number };
}): Promise<GraceEnd> {
  const started = Date.now();
  let state: GraceEnd['ended'] | undefined;
  const limit = deadline(options.graceMs);
  const elapsed = limit.reached.then(() => (state ??= 'elapsed'));
  void options.exited.then(() => (state ??= 'exited'));
  let left = '';
  const { quiet } = options;
  if (quiet) {
    while (state === undefined) {
      const processes = await sandboxProcesses(quiet.cgroups);
      const theirs = processes?.filter((p) => !quiet.planned.has(p.pid));
      const drained = theirs?.length === 0 && (await socketsDrained(quiet.netPid));
      if (drained && state === undefined) state = 'quiet';
      else {
        left =
          theirs === undefined
            ? 'the sandbox processes could not be read'
            : theirs.length > 0
              ? `${theirs.length} package process(es) running (${[...new Set(theirs.map((p) => p.comm))].slice(0, 5).join(', ')})`
              : 'bytes queued in the network namespace';
        await Promise.race([sleep(50), elapsed]);
      }
    }
  } else {
    await Promise.race([elapsed, options.exited]);
    left = 'the runner ran package code';
  }
  limit.cancel();
  const ended = state ?? 'elapsed';
  return { ms: Date.now() - started, ended, ...(ended === 'elapsed' && left ? { left } : {}) };
}
