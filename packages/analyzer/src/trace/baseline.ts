// Baselines: what a control run (a benign, minimal package through the same sandbox) does, so that
// the runtime's own behaviour can be subtracted from every report. Control packages must be minimal
// (an empty lifecycle script): whatever they do is treated as noise for every package.
import type { BehaviourReport, FileClass, TraceEvent } from '@secure-registry/shared';
import type { PathContext, ReportOp } from './file-class.js';
import { argvPattern, pathPattern, processKey } from './noise.js';

/** JSON-serialisable; every list sorted and unique. */
export interface Baseline {
  /** `<process identity>\t<path pattern>\t<op>`; identity `*` = any process (learned from reports). */
  files: string[];
  /** argv patterns of processes seen in control runs. */
  processes: string[];
  /** DNS names looked up in control runs. */
  dns: string[];
}

export type BaselineRun = PathContext & ({ events: readonly TraceEvent[] } | { report: BehaviourReport });

/** Classes a report-derived (process-less) baseline may never hide: they are the point of the sandbox. */
const NEVER_FROM_REPORTS: ReadonlySet<FileClass> = new Set([
  'honeytoken',
  'credentials',
  'wallet',
  'persistence',
  'ci-config',
]);

export const reportOps = (op: TraceEvent & { kind: 'file' }): { op: ReportOp; path: string }[] => {
  switch (op.op) {
    case 'read':
      return [{ op: 'read', path: op.path }];
    case 'delete':
      return [{ op: 'delete', path: op.path }];
    case 'rename':
      return op.target
        ? [
            { op: 'delete', path: op.path },
            { op: 'write', path: op.target },
          ]
        : [{ op: 'delete', path: op.path }];
    case 'exec':
      return [];
    default:
      return [{ op: 'write', path: op.path }];
  }
};

/**
 * Walks events in order and tells which process identity did each one: a process takes the identity
 * of its last execve, and a forked child that has not exec'd yet that of its parent.
 */
export function identityTracker(ctx: PathContext): (e: TraceEvent) => string {
  const ids = new Map<number, string>();
  return (e) => {
    if (e.kind === 'process') ids.set(e.pid, processKey(e.argv, ctx));
    let id = ids.get(e.pid);
    if (id === undefined && e.ppid !== undefined) {
      id = ids.get(e.ppid);
      if (id !== undefined) ids.set(e.pid, id);
    }
    return id ?? '?';
  };
}

/** Learns a baseline from control runs (their raw events, or their reports). */
export function learnBaseline(runs: readonly BaselineRun[]): Baseline {
  const files = new Set<string>();
  const processes = new Set<string>();
  const dns = new Set<string>();
  for (const run of runs) {
    if ('events' in run) {
      const identity = identityTracker(run);
      for (const e of [...run.events].sort((a, b) => a.seq - b.seq)) {
        const id = identity(e);
        if (e.kind === 'process') processes.add(argvPattern(e.argv, run));
        else if (e.kind === 'dns') dns.add(e.name.toLowerCase());
        else if (e.kind === 'file') {
          for (const r of reportOps(e)) files.add(`${id}\t${pathPattern(r.path, run)}\t${r.op}`);
        }
      }
    } else {
      for (const p of run.report.processes) processes.add(argvPattern(p.argv, run));
      for (const d of run.report.dns) dns.add(d.name.toLowerCase());
      for (const f of run.report.files) {
        if (!NEVER_FROM_REPORTS.has(f.class)) files.add(`*\t${pathPattern(f.path, run)}\t${f.op}`);
      }
    }
  }
  return { files: [...files].sort(), processes: [...processes].sort(), dns: [...dns].sort() };
}

/** Lookups over a baseline (built once per reduction). */
export class BaselineIndex {
  private readonly files: Set<string>;
  private readonly processes: Set<string>;
  private readonly dns: Set<string>;
  constructor(baseline: Baseline | undefined) {
    this.files = new Set(baseline?.files ?? []);
    this.processes = new Set(baseline?.processes ?? []);
    this.dns = new Set(baseline?.dns ?? []);
  }
  hasFile(id: string, pattern: string, op: ReportOp, cls: FileClass): boolean {
    if (this.files.has(`${id}\t${pattern}\t${op}`)) return true;
    return !NEVER_FROM_REPORTS.has(cls) && this.files.has(`*\t${pattern}\t${op}`);
  }
  hasProcess(pattern: string): boolean {
    return this.processes.has(pattern);
  }
  hasDns(name: string): boolean {
    return this.dns.has(name.toLowerCase());
  }
}
