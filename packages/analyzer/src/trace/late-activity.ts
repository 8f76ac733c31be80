// Activity that outlives an install phase's lifecycle scripts: a detached child that keeps running
// after the script npm waited for has exited, and whatever it does afterwards (runs programs, writes
// files, reaches the network). npm considers the install finished when the script exits; a payload
// that fires later is meant to escape whoever watched the script.
//
// Computed from the trace alone: the first process is the one playing npm (the sandbox's runner, or
// npm in a recorded trace); its direct children are the lifecycle scripts; their `exit` events end
// the scripts. Only for the install phase (in the import and browser phases the entry points run in
// the loader itself, so there is no script exit to measure against).
import type { BehaviourReport, Phase, TraceEvent, TraceEventOf } from '@secure-registry/shared';

export type LateEntry = NonNullable<BehaviourReport['lateActivity']>[number];
export type LateKind = LateEntry['what'];

/** Scheduling slack: events this close to the scripts' end (sink logging, exit ordering) are not late. */
export const LATE_TOLERANCE_S = 0.25;
/** At most this many late entries per report (each with its evidence seqs). */
const MAX_ENTRIES = 100;

export interface LateTracker {
  /** Records `e` as late activity when it happened after the scripts ended, by a process they left behind. */
  note(e: TraceEvent, what: Exclude<LateKind, 'alive'>, detail: string): void;
  entries(): LateEntry[];
}

/**
 * Prepares the late-activity tracker of a run, or undefined when there is nothing to measure
 * against (not the install phase, no lifecycle script, or a script that never exited — a timeout,
 * which other evidence reports).
 */
export function lateActivityTracker(events: readonly TraceEvent[], phase: Phase): LateTracker | undefined {
  if (phase !== 'install') return undefined;
  const parent = new Map<number, number>();
  const exec = new Map<number, TraceEventOf<'process'>>();
  const exitTs = new Map<number, number>();
  let root: number | undefined;
  let lastTs = 0;
  for (const e of events) {
    lastTs = Math.max(lastTs, e.ts);
    if (e.pid === 0) continue; // the network sink's records: no process of their own
    if (e.ppid !== undefined && !parent.has(e.pid)) parent.set(e.pid, e.ppid);
    if (e.kind === 'process') {
      root ??= e.pid;
      if (!exec.has(e.pid)) exec.set(e.pid, e);
    } else if (e.kind === 'exit') exitTs.set(e.pid, e.ts);
  }
  if (root === undefined) return undefined;
  const scripts = [...exec.keys()].filter((pid) => pid !== root && parent.get(pid) === root);
  if (scripts.length === 0) return undefined;
  const ends = scripts.map((pid) => exitTs.get(pid));
  if (ends.some((ts) => ts === undefined)) return undefined;
  const since = Math.max(...(ends as number[]));
  const scriptSet = new Set(scripts);

  // Descendants of the scripts (not the scripts themselves, not the runner).
  const underScript = new Map<number, boolean>();
  const isLeftBehind = (pid: number): boolean => {
    const known = underScript.get(pid);
    if (known !== undefined) return known;
    let result = false;
    for (let p = parent.get(pid), hops = 0; p !== undefined && hops < 1000; p = parent.get(p), hops++) {
      if (scriptSet.has(p)) {
        result = true;
        break;
      }
      if (p === root) break;
    }
    underScript.set(pid, result);
    return result;
  };
  const argvOf = (pid: number): string[] => {
    for (
      let p: number | undefined = pid, hops = 0;
      p !== undefined && hops < 1000;
      p = parent.get(p), hops++
    ) {
      const found = exec.get(p);
      if (found) return found.argv;
    }
    return [];
  };
  const afterMs = (ts: number): number => Math.max(0, Math.round((ts - since) * 1000));

  const map = new Map<string, LateEntry>();
  const add = (key: string, seq: number, make: () => Omit<LateEntry, 'seq'>): void => {
    const cur = map.get(key);
    if (cur) {
      if (!cur.seq.includes(seq) && cur.seq.length < 20) cur.seq.push(seq);
    } else if (map.size < MAX_ENTRIES) map.set(key, { ...make(), seq: [seq] });
  };

  // Processes the scripts left running: their exit (or the end of the trace) is past the scripts' end.
  const firstSeq = new Map<number, number>();
  for (const e of events) if (e.pid !== 0 && !firstSeq.has(e.pid)) firstSeq.set(e.pid, e.seq);
  for (const [pid, seq] of firstSeq) {
    if (!isLeftBehind(pid)) continue;
    const end = exitTs.get(pid) ?? lastTs;
    if (end - since <= LATE_TOLERANCE_S) continue;
    const alive = afterMs(end);
    add(`${pid}\0alive`, seq, () => ({
      pid,
      argv: argvOf(pid),
      what: 'alive',
      detail: exitTs.has(pid)
        ? `still running ${alive} ms after the lifecycle scripts exited`
        : `still running when the run ended, ${alive} ms after the lifecycle scripts exited`,
      afterMs: alive,
    }));
  }

  return {
    note(e, what, detail) {
      if (e.ts - since <= LATE_TOLERANCE_S) return;
      if (e.pid !== 0 && !isLeftBehind(e.pid)) return;
      add(`${e.pid}\0${what}\0${detail}`, e.seq, () => ({
        pid: e.pid,
        argv: e.pid === 0 ? [] : argvOf(e.pid),
        what,
        detail: detail.slice(0, 300),
        afterMs: afterMs(e.ts),
      }));
    },
    entries: () => [...map.values()],
  };
}
