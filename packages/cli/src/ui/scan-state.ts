import { pendingScanCounts } from '@secure-registry/shared';
import type {
  AnalysisStep,
  Finding,
  ScanCounts,
  ScanEvent,
  ScanPackage,
  ScanResult,
} from '@secure-registry/shared';
import { emptyPhaseState, reducePhaseEvent, settlePackage } from './phase-state.js';
import type { PhaseState } from './phase-state.js';

export type { AnalysisStep };

export interface ArrivedFinding {
  pkg: string;
  finding: Finding;
}

/** What the live scan view shows; built from events by `reduceScanEvent`. */
export interface ScanViewState {
  scanId: string | undefined;
  lockfile: string;
  counts: ScanCounts;
  /** `name@version` of packages in the `analyzing` state, in arrival order. */
  analyzing: string[];
  findings: ArrivedFinding[];
  result: ScanResult | undefined;
  exitCode: number | undefined;
  /** The analysis steps seen (`package.phase` events): what runs now, what ran where, the ETA. */
  phases: PhaseState;
  /** The clock the view was last brought to (ms since the epoch). */
  now: number;
}

export function initialScanViewState(lockfile: string, total: number, now = Date.now()): ScanViewState {
  return {
    phases: emptyPhaseState(now),
    now,
    scanId: undefined,
    lockfile,
    counts: pendingScanCounts(total),
    analyzing: [],
    findings: [],
    result: undefined,
    exitCode: undefined,
  };
}

const MAX_FINDINGS = 200;

/** The state after one event; `now` is when it arrived (running steps are timed from their arrival). */
export function reduceScanEvent(state: ScanViewState, event: ScanEvent, now = Date.now()): ScanViewState {
  switch (event.type) {
    case 'package.phase':
      return { ...state, now, phases: reducePhaseEvent(state.phases, event, now) };
    case 'scan.snapshot': {
      const scan = event.scan;
      return {
        ...state,
        scanId: scan.id,
        counts: scan.counts,
        analyzing: scan.packages.filter((pkg) => pkg.state === 'analyzing').map(label),
        findings: scan.packages
          .flatMap((pkg) => pkg.findings.map((finding) => ({ pkg: label(pkg), finding })))
          .slice(-MAX_FINDINGS),
      };
    }
    case 'package.state': {
      const id = label(event);
      const analyzing = state.analyzing.filter((entry) => entry !== id);
      if (event.state === 'analyzing') analyzing.push(id);
      const findings = event.findings.length
        ? [...state.findings, ...event.findings.map((finding) => ({ pkg: id, finding }))].slice(-MAX_FINDINGS)
        : state.findings;
      const phases =
        event.state === 'pending' || event.state === 'analyzing'
          ? state.phases
          : settlePackage(state.phases, id, now);
      return { ...state, now, counts: event.counts, analyzing, findings, phases };
    }
    case 'scan.completed':
      return { ...state, scanId: event.scan.id, counts: event.scan.counts, analyzing: [] };
  }
}

export function withResult(state: ScanViewState, result: ScanResult, exitCode: number): ScanViewState {
  return { ...state, scanId: result.id, counts: result.counts, analyzing: [], result, exitCode };
}

function label(pkg: Pick<ScanPackage, 'name' | 'version'>): string {
  return `${pkg.name}@${pkg.version}`;
}

/** Packages with a decision (everything but pending / analyzing). */
export function decidedCount(counts: ScanCounts): number {
  return counts.approved + counts.rejected + counts.review + counts.blocked + counts.unvettable;
}
