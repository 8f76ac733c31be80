// Attributes the events of a batch run to the packages that caused them. Pure.
//
// - Process tree: every package's processes start as direct children of the batch runner (its scripts'
//   `sh -c`, or the loader `npm-cli.js load <config> <i,j,…>` of its group). A direct child is identified
//   by the runner's own choices, never by anything the package controls: the loader's argv, or the cwd the
//   runner gave a script (its package directory). Descendants follow the clone tree (a detached or
//   re-parented child still has the parent that cloned it), so a package cannot hand its events to a
//   neighbour by changing its environment or cwd.
// - Loader groups: one loader loads several packages in turn; a failed open of a marker path starts each
//   package's window, and an event of the loader's tree belongs to the window it falls in. Markers are only
//   accepted in the group's order, so a package that forges one can only push its own events onto packages
//   loaded after it — whose `sharedWith` names it (see batch-types.ts).
// - Sink events (DNS, HTTP, TLS, raw TCP, decoys): the sink names the process owning the client socket
//   (host pid, the pid strace prints); HTTP/TLS/TCP records join their connection by client port. When
//   it could not tell, the record is correlated with the trace: DNS by the query name strace saw leave,
//   connections by destination address and port, decoys by the decoy's exec, each within a time window.
// - Whatever matches more than one package, or none, is ambiguous: it is listed for every candidate
//   (every package active around that time when nothing matched), so no candidate is cleared by it.
import type { TraceEvent } from '@secure-registry/shared';
import { browserEvents, sinkEvent, type RunnerMessage, type Unsequenced } from './collect-events.js';
import { LOAD_MARKER_PREFIX, RUNNER_IN_SANDBOX } from './sandbox-env.js';
import type { SinkRecord } from './sink-protocol.js';

export interface AttributionInput {
  /** Parsed strace events of the runner and its descendants. */
  trace: TraceEvent[];
  runnerPid: number;
  /** Sandbox directory of each package, by index. */
  packageDirs: string[];
  /** Which packages ran at all (candidates when nothing else is known). */
  ran: boolean[];
  records: SinkRecord[];
  messages: RunnerMessage[];
  /** Absolute entry paths of each package (import / browser), to check that its loading was seen. */
  entries?: string[][];
}

export interface AttributedEvent {
  event: Unsequenced;
  ambiguous: boolean;
}

export interface Attribution {
  /** By package index. */
  byPackage: AttributedEvent[][];
  ambiguous: { event: Unsequenced; candidates: number[] }[];
  /** The runner's own events (never a package's), dropped. */
  runnerEvents: number;
  /** How sink records were attributed: by socket owner, by correlation, ambiguous. */
  stats: { owner: number; correlated: number; ambiguous: number };
  /** By package index: the packages loaded before it by the same loader process. */
  sharedWith: number[][];
  /** Packages loaded in a group whose entries were never seen opened in their window. */
  unverified: Set<number>;
}

type Owner = number | 'runner' | 'unknown';
type Root = number | 'runner' | 'unknown';

const WINDOW = { dns: 5, connection: 60, decoy: 10, after: 1 } as const;

export function attributeBatch(input: AttributionInput): Attribution {
  const { trace, runnerPid, packageDirs } = input;
  const byPackage: AttributedEvent[][] = packageDirs.map(() => []);
  const ambiguous: Attribution['ambiguous'] = [];
  const stats = { owner: 0, correlated: 0, ambiguous: 0 };
  const dirIndex = new Map(packageDirs.map((d, i) => [d, i]));

  const parent = new Map<number, number>();
  for (const e of trace) if (e.ppid !== undefined && !parent.has(e.pid)) parent.set(e.pid, e.ppid);
  // Direct children of the runner, each with the packages it runs (one, or a loader's group).
  const groups = new Map<number, number[]>();
  for (const e of trace) {
    if (e.kind !== 'process' || parent.get(e.pid) !== runnerPid || groups.has(e.pid)) continue;
    groups.set(e.pid, rootGroup(e, dirIndex, packageDirs.length));
  }
  const rootMemo = new Map<number, Root>();
  const rootOf = (pid: number): Root => {
    const cached = rootMemo.get(pid);
    if (cached !== undefined) return cached;
    let root: Root = 'unknown';
    for (
      let p: number | undefined = pid, hops = 0;
      p !== undefined && hops < 1000;
      p = parent.get(p), hops++
    ) {
      if (p === runnerPid) {
        // Only the runner's own process is the runner; an unidentified child of it is nobody's (ambiguous).
        root = pid === runnerPid ? 'runner' : 'unknown';
        break;
      }
      if (groups.has(p)) {
        root = p;
        break;
      }
    }
    rootMemo.set(pid, root);
    return root;
  };
  // Windows of each loader group, from its markers, accepted in the group's order only.
  const windows = new Map<number, { index: number; ts: number }[]>();
  const markerSeqs = new Set<number>();
  for (const e of trace) {
    if (e.kind !== 'file' || !e.path.startsWith(LOAD_MARKER_PREFIX)) continue;
    const root = rootOf(e.pid);
    const group = typeof root === 'number' ? groups.get(root) : undefined;
    if (!group || group.length < 2) continue;
    markerSeqs.add(e.seq);
    const seen = windows.get(root as number) ?? [];
    const index = Number(e.path.slice(LOAD_MARKER_PREFIX.length));
    if (group[seen.length] === index && /^\d+$/.test(e.path.slice(LOAD_MARKER_PREFIX.length))) {
      seen.push({ index, ts: e.ts });
      windows.set(root as number, seen);
    }
  }
  const ownerAt = (pid: number, ts: number): Owner => {
    const root = rootOf(pid);
    if (typeof root !== 'number') return root;
    const group = groups.get(root) ?? [];
    if (group.length <= 1) return group[0] ?? 'unknown';
    let owner = group[0] as number;
    for (const w of windows.get(root) ?? []) if (w.ts <= ts) owner = w.index;
    return owner;
  };
  const ownerOf = (e: { pid: number; ts: number }): Owner => ownerAt(e.pid, e.ts);

  const active = (ts: number): number[] => {
    const out = new Set<number>();
    for (const e of trace) {
      if (Math.abs(e.ts - ts) > 2) continue;
      const o = ownerOf(e);
      if (typeof o === 'number') out.add(o);
    }
    return out.size > 0 ? [...out] : input.ran.flatMap((r, i) => (r ? [i] : []));
  };
  const place = (event: Unsequenced, candidates: number[]): void => {
    if (candidates.length === 1) {
      byPackage[candidates[0] as number]?.push({ event, ambiguous: false });
      return;
    }
    const list = candidates.length > 0 ? candidates : active(event.ts);
    ambiguous.push({ event, candidates: list });
    for (const i of list) byPackage[i]?.push({ event, ambiguous: true });
  };

  let runnerEvents = 0;
  for (const e of trace) {
    if (markerSeqs.has(e.seq)) continue;
    const o = ownerOf(e);
    if (o === 'runner') runnerEvents++;
    else place(e as Unsequenced, o === 'unknown' ? [] : [o]);
  }

  const names = new Map<string, string>();
  const conns = input.records.filter((r): r is Extract<SinkRecord, { t: 'conn' }> => r.t === 'conn');
  for (const r of input.records) {
    if (r.t === 'dns' && r.answer) names.set(r.answer, r.name);
    const event = sinkEvent(r, names);
    if (!event) continue;
    const pid = recordPid(r, conns);
    const owner = pid === undefined ? 'unknown' : ownerAt(pid, r.ts);
    if (typeof owner === 'number') {
      stats.owner++;
      place({ ...event, pid: pid as number }, [owner]);
      continue;
    }
    const candidates = correlate(r, trace, ownerOf);
    if (candidates.length === 1) stats.correlated++;
    else stats.ambiguous++;
    place(event, candidates);
  }

  for (const m of input.messages) {
    if (m.type !== 'browser' || typeof m.index !== 'number') continue;
    for (const event of browserEvents([m])) place(event, [m.index]);
  }
  const { sharedWith, unverified } = loaderGroups(windows, trace, rootOf, input.entries);
  return { byPackage, ambiguous, runnerEvents, stats, sharedWith, unverified };
}

/** Who shares a loader with whom, and which grouped packages were never seen opening an entry. */
function loaderGroups(
  windows: Map<number, { index: number; ts: number }[]>,
  trace: TraceEvent[],
  rootOf: (pid: number) => Root,
  entries: string[][] | undefined,
): Pick<Attribution, 'sharedWith' | 'unverified'> {
  const sharedWith: number[][] = [];
  const unverified = new Set<number>();
  // Windows exist only for loaders of two or more packages; only packages whose window began in a loader
  // were loaded by it (a restarted group has its own root).
  const opened = new Map<number, { path: string; ts: number }[]>();
  for (const e of trace) {
    if (e.kind !== 'file' || e.op !== 'read') continue;
    const root = rootOf(e.pid);
    if (typeof root !== 'number' || !windows.has(root)) continue;
    const list = opened.get(root) ?? [];
    list.push({ path: e.path, ts: e.ts });
    opened.set(root, list);
  }
  for (const [root, seen] of windows) {
    seen.forEach((window, position) => {
      sharedWith[window.index] = seen.slice(0, position).map((w) => w.index);
      const wanted = new Set(entries?.[window.index] ?? []);
      if (wanted.size === 0) return;
      const loaded = (opened.get(root) ?? []).some((o) => o.ts >= window.ts && wanted.has(o.path));
      if (!loaded) unverified.add(window.index);
    });
  }
  return { sharedWith, unverified };
}

/** The packages a direct child of the runner runs: a loader's group (from its argv), or a script's package. */
function rootGroup(
  e: TraceEvent & { kind: 'process' },
  dirIndex: Map<string, number>,
  count: number,
): number[] {
  const at = e.argv.indexOf(RUNNER_IN_SANDBOX);
  if (at > 0 && e.argv[at + 1] === 'load') {
    const indices = (e.argv[at + 3] ?? '').split(',').map(Number);
    return indices.every((i) => Number.isInteger(i) && i >= 0 && i < count) ? indices : [];
  }
  const index = e.cwd === undefined ? undefined : dirIndex.get(e.cwd);
  return index === undefined ? [] : [index];
}

function recordPid(r: SinkRecord, conns: Extract<SinkRecord, { t: 'conn' }>[]): number | undefined {
  if (r.t === 'conn' || r.t === 'dns' || r.t === 'decoy') return r.pid;
  if (r.clientPort === undefined) return undefined;
  let best: Extract<SinkRecord, { t: 'conn' }> | undefined;
  for (const c of conns) if (c.clientPort === r.clientPort && c.ts <= r.ts + 0.001) best = c;
  return best?.pid;
}

/** Packages whose traced activity matches a sink record the sink could not attribute. */
function correlate(
  r: SinkRecord,
  trace: TraceEvent[],
  ownerOf: (e: { pid: number; ts: number }) => Owner,
): number[] {
  const out = new Set<number>();
  const within = (ts: number, before: number): boolean => ts >= r.ts - before && ts <= r.ts + WINDOW.after;
  for (const e of trace) {
    let match = false;
    if (r.t === 'dns')
      match = e.kind === 'dns' && e.name.toLowerCase() === r.name.toLowerCase() && within(e.ts, WINDOW.dns);
    else if (r.t === 'decoy')
      match = e.kind === 'process' && e.path === `/usr/local/bin/${r.tool}` && within(e.ts, WINDOW.decoy);
    else if (r.t !== 'conn')
      match =
        e.kind === 'connect' &&
        e.address === r.address &&
        e.port === r.port &&
        within(e.ts, WINDOW.connection);
    if (!match) continue;
    const o = ownerOf(e);
    if (typeof o === 'number') out.add(o);
  }
  return [...out];
}

/** Orders one package's events by time, numbers them, and names its package (ambiguous ones stay unnamed). */
export function sequencePackageEvents(options: {
  events: AttributedEvent[];
  packageId: string;
  names: Map<string, string>;
}): { events: TraceEvent[]; ambiguousSeqs: number[] } {
  const sorted = options.events.map((a, order) => ({ ...a, order }));
  sorted.sort((a, b) => a.event.ts - b.event.ts || a.order - b.order);
  const ambiguousSeqs: number[] = [];
  const events = sorted.map(({ event, ambiguous }, seq) => {
    const out = { ...event, seq, ...(ambiguous ? {} : { package: options.packageId }) } as TraceEvent;
    if (ambiguous) ambiguousSeqs.push(seq);
    if (out.kind === 'connect' && out.host === undefined) {
      const host = options.names.get(out.address);
      if (host) out.host = host;
    }
    return out;
  });
  return { events, ambiguousSeqs };
}
