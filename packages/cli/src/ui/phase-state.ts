// What the analysis steps of a scan's packages tell (`package.phase` events): which run now and
// since when, which ended where (sandbox or not, which executor), how long they took, and from the
// pace so far an estimate of the time left. Pure: events and clock times in, state out.
import type { AnalysisStep, ScanCounts, ScanEvent } from '@secure-registry/shared';

type PhaseEvent = Extract<ScanEvent, { type: 'package.phase' }>;

/** The steps in the order an artifact goes through them. */
export const STEP_ORDER: readonly AnalysisStep[] = [
  'fetch',
  'static',
  'install',
  'import',
  'browser',
  'investigating',
];

export interface RunningStep {
  /** `name@version`. */
  pkg: string;
  phase: AnalysisStep;
  /** When the client saw it start (its own clock: the server's may differ). */
  since: number;
  place: string | undefined;
}

export interface StepTally {
  /** Ended runs (finished or failed). */
  ran: number;
  failed: number;
  skipped: number;
  totalMs: number;
  /** Where it ran: `in the sandbox (local executor)`, `without the sandbox`. */
  places: string[];
  /** Why runs failed or were skipped (distinct, a few). */
  notes: string[];
  /** The largest batch an import/browser run shared. */
  largestBatch: number;
}

export interface PhaseState {
  running: RunningStep[];
  tallies: ReadonlyMap<AnalysisStep, StepTally>;
  /** Per package (`name@version`) the steps that ended, for its line when it finishes. */
  ended: ReadonlyMap<string, string[]>;
  /** When the first step of this scan was seen, and how many packages with steps have settled since. */
  firstAt: number | undefined;
  analysed: number;
  startedAt: number;
}

const MAX_NOTES = 3;

export function emptyPhaseState(now: number): PhaseState {
  return {
    running: [],
    tallies: new Map(),
    ended: new Map(),
    firstAt: undefined,
    analysed: 0,
    startedAt: now,
  };
}

/** Where a step ran, in words. */
export function placeOf(event: Pick<PhaseEvent, 'sandbox' | 'executor'>): string | undefined {
  if (event.sandbox === true) return `in the sandbox (${event.executor ?? 'local'} executor)`;
  if (event.sandbox === false) return 'without the sandbox';
  return undefined;
}

export function reducePhaseEvent(state: PhaseState, event: PhaseEvent, now: number): PhaseState {
  const pkg = `${event.name}@${event.version}`;
  const place = placeOf(event);
  const firstAt = state.firstAt ?? now;
  const others = state.running.filter((r) => !(r.pkg === pkg && r.phase === event.phase));
  if (event.status === 'started') {
    return { ...state, firstAt, running: [...others, { pkg, phase: event.phase, since: now, place }] };
  }
  const tallies = new Map(state.tallies);
  const before = tallies.get(event.phase) ?? {
    ran: 0,
    failed: 0,
    skipped: 0,
    totalMs: 0,
    places: [],
    notes: [],
    largestBatch: 0,
  };
  const tally: StepTally = {
    ...before,
    ran: before.ran + (event.status === 'skipped' ? 0 : 1),
    failed: before.failed + (event.status === 'failed' ? 1 : 0),
    skipped: before.skipped + (event.status === 'skipped' ? 1 : 0),
    totalMs: before.totalMs + (event.durationMs ?? 0),
    places:
      place && event.status !== 'skipped' && !before.places.includes(place)
        ? [...before.places, place]
        : before.places,
    notes:
      event.detail && event.status !== 'finished' && !before.notes.includes(event.detail)
        ? [...before.notes, event.detail].slice(0, MAX_NOTES)
        : before.notes,
    largestBatch: Math.max(before.largestBatch, event.batch ?? 0),
  };
  tallies.set(event.phase, tally);
  const ended = new Map(state.ended);
  ended.set(pkg, [...(ended.get(pkg) ?? []), stepWords(event)]);
  return { ...state, firstAt, running: others, tallies, ended };
}

function stepWords(event: PhaseEvent): string {
  if (event.status === 'skipped') return `${event.phase} skipped`;
  const took = event.durationMs === undefined ? '' : ` ${formatDuration(event.durationMs)}`;
  return event.status === 'failed' ? `${event.phase} failed${took}` : `${event.phase}${took}`;
}

/** The package got its decision: nothing of it runs any more. */
export function settlePackage(state: PhaseState, pkg: string, _now: number): PhaseState {
  const had = state.ended.has(pkg) || state.running.some((r) => r.pkg === pkg);
  if (!had) return state;
  const ended = new Map(state.ended);
  ended.delete(pkg);
  return {
    ...state,
    running: state.running.filter((r) => r.pkg !== pkg),
    ended,
    analysed: state.analysed + 1,
  };
}

/** The steps that ended for a package, in words (`fetch 0.2s`, `install failed 60s`). */
export function stepsOf(state: PhaseState, pkg: string): string[] {
  return state.ended.get(pkg) ?? [];
}

/**
 * Milliseconds left at the pace of the packages analysed so far in this scan (verdicts already known
 * come at once and do not count), or undefined before the first one settled.
 */
export function estimateRemainingMs(state: PhaseState, counts: ScanCounts, now: number): number | undefined {
  const open = counts.pending + counts.analyzing;
  if (open === 0 || state.analysed === 0 || state.firstAt === undefined) return undefined;
  return Math.round((open * (now - state.firstAt)) / state.analysed);
}

export function formatDuration(ms: number): string {
  if (ms < 10_000) return `${(ms / 1000).toFixed(1)}s`;
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h ${String(m % 60).padStart(2, '0')}m`;
}

/**
 * What ran in this scan, and where: one line per step that was due, and one line on whether package
 * code ran in a sandbox. A scan whose verdicts were all known says that no analysis ran.
 */
export function phaseSummaryLines(state: PhaseState): string[] {
  if (state.tallies.size === 0) {
    return ['analysis: none ran in this scan (every verdict was already known to the server)'];
  }
  const lines = ['analysis in this scan:'];
  for (const step of STEP_ORDER) {
    const tally = state.tallies.get(step);
    if (!tally) continue;
    const parts: string[] = [];
    if (tally.ran > 0) {
      let ran = `${tally.ran} run${tally.ran === 1 ? '' : 's'}`;
      if (tally.places.length > 0) ran += ` ${tally.places.join(' and ')}`;
      if (tally.largestBatch > 1) ran += `, batches of up to ${tally.largestBatch}`;
      parts.push(`${ran}, ${formatDuration(tally.totalMs)} in all`);
    }
    if (tally.failed > 0) parts.push(`${tally.failed} did not complete`);
    if (tally.skipped > 0) parts.push(`${tally.skipped} not run`);
    const notes = tally.notes.length > 0 ? ` (${tally.notes.join('; ')})` : '';
    lines.push(`  ${step.padEnd(14)} ${parts.join(', ')}${notes}`);
  }
  lines.push(`  ${sandboxLine(state)}`);
  return lines;
}

function sandboxLine(state: PhaseState): string {
  const dynamic = (['install', 'import', 'browser'] as const)
    .map((step) => state.tallies.get(step))
    .filter((t): t is StepTally => t !== undefined);
  const ran = dynamic.reduce((n, t) => n + t.ran, 0);
  const skipped = dynamic.reduce((n, t) => n + t.skipped, 0);
  const places = [...new Set(dynamic.flatMap((t) => t.places))];
  if (ran === 0 && skipped === 0) return 'sandbox: no package in this scan had a phase to run in it';
  if (ran === 0) return `sandbox: no package code ran (${skipped} phase${skipped === 1 ? '' : 's'} not run)`;
  const where = places.join(' and ');
  return skipped > 0
    ? `sandbox: package code ran ${where}; ${skipped} phase${skipped === 1 ? '' : 's'} not run`
    : `sandbox: package code ran ${where}`;
}
