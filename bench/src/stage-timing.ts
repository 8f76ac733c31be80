// Per-stage wall time of a cold scan, from the scan's own `package.phase` events (what `scan` shows
// live), and the RSS of one process sampled over time: where the pipeline's time and memory go.
import { readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import type { ScanEvent } from '@secure-registry/shared';

type PhaseEvent = Extract<ScanEvent, { type: 'package.phase' }>;

/** One ended step of one artifact: [start, end] in ms since the scan started. */
interface Span {
  start: number;
  end: number;
  batch: number | undefined;
}

/** Total length of the union of the spans: how long at least one artifact was in the stage. */
function unionMs(spans: readonly Span[]): number {
  const sorted = [...spans].sort((a, b) => a.start - b.start);
  let total = 0;
  let from = -Infinity;
  let to = -Infinity;
  for (const s of sorted) {
    if (s.start > to) {
      if (to > from) total += to - from;
      from = s.start;
      to = s.end;
    } else to = Math.max(to, s.end);
  }
  if (to > from) total += to - from;
  return total;
}

/** Spans of one batch end together (their sandbox ends once); a new batch is a gap of > 250 ms in end times. */
function batchesOf(spans: readonly Span[]): Span[][] {
  const sorted = [...spans].sort((a, b) => a.end - b.end);
  const out: Span[][] = [];
  for (const s of sorted) {
    const last = out[out.length - 1];
    if (last && s.end - (last[last.length - 1] as Span).end <= 250) last.push(s);
    else out.push([s]);
  }
  return out;
}

export interface StageRow {
  stage: string;
  runs: number;
  /** Wall time with at least one run of the stage going (s). */
  wallS: number;
  /** Summed per-artifact time (s): waits for a slot or a batch included. */
  sumS: number;
  firstStartS: number;
  lastEndS: number;
  /** Sandbox runs (batched stages: one per batch). */
  sandboxRuns: number;
}

/** Collects the phase events of a scan and reduces them to a row per stage. */
export class StageTimer {
  private readonly spans = new Map<string, Span[]>();

  constructor(private readonly startedAt: number) {}

  add(event: ScanEvent): void {
    if (event.type !== 'package.phase') return;
    const e = event as PhaseEvent;
    if ((e.status !== 'finished' && e.status !== 'failed') || e.durationMs === undefined) return;
    const end = Date.parse(e.at) - this.startedAt;
    const span: Span = { start: end - e.durationMs, end, batch: e.batch };
    // Batched phases: a run in a batch, or the package run alone (its own run or after a batch).
    const stage =
      e.phase === 'import' || e.phase === 'browser'
        ? `${e.phase} ${e.batch !== undefined && e.batch > 1 ? 'batch' : 'alone'}`
        : e.phase;
    const list = this.spans.get(stage) ?? [];
    list.push(span);
    this.spans.set(stage, list);
  }

  rows(): StageRow[] {
    const order = [
      'fetch',
      'static',
      'install',
      'import batch',
      'import alone',
      'browser batch',
      'browser alone',
    ];
    const stages = [...this.spans.keys()].sort(
      (a, b) => (order.indexOf(a) + 1 || 99) - (order.indexOf(b) + 1 || 99),
    );
    return stages.map((stage) => {
      const spans = this.spans.get(stage) as Span[];
      return {
        stage,
        runs: spans.length,
        wallS: unionMs(spans) / 1000,
        sumS: spans.reduce((n, s) => n + s.end - s.start, 0) / 1000,
        firstStartS: Math.min(...spans.map((s) => s.start)) / 1000,
        lastEndS: Math.max(...spans.map((s) => s.end)) / 1000,
        sandboxRuns: stage.endsWith(' batch') ? batchesOf(spans).length : spans.length,
      };
    });
  }

  /** Lines for the report: the stages, and the grace periods' share (an upper bound). */
  lines(graceMs: number): string[] {
    const rows = this.rows();
    const out = [
      'stage          runs  sandbox runs  wall s  first..last s   summed s (per-artifact, waits included)',
    ];
    for (const r of rows)
      out.push(
        `${r.stage.padEnd(14)} ${String(r.runs).padStart(4)} ${String(r.stage === 'fetch' || r.stage === 'static' ? '-' : r.sandboxRuns).padStart(13)} ${r.wallS.toFixed(1).padStart(7)}  ${`${r.firstStartS.toFixed(1)}..${r.lastEndS.toFixed(1)}`.padStart(13)}  ${r.sumS.toFixed(0).padStart(9)}`,
      );
    const sandboxRuns = rows
      .filter((r) => r.stage !== 'fetch' && r.stage !== 'static')
      .reduce((n, r) => n + r.sandboxRuns, 0);
    out.push(
      `grace: at most ${graceMs} ms after each sandbox run's main process (SR_SANDBOX_GRACE_MS), ${sandboxRuns} runs: ≤ ${((sandboxRuns * graceMs) / 1000).toFixed(0)} s of slot time (install runs twice: developer and CI variants)`,
    );
    return out;
  }
}

/** A field of one process's `/proc/<pid>/status` in bytes (`VmRSS`, `VmHWM`), or 0 when it cannot be read. */
function statusBytes(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  try {
    const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return Number(m?.[1] ?? 0) * 1024;
  } catch {
    return 0;
  }
}

export interface RssSample {
  s: number;
  rss: number;
  load: number;
  /** This process only (`process.memoryUsage()`): V8's heap in use and memory outside it (Buffers). */
  heapUsed?: number;
  external?: number;
}

/**
 * Samples one process's RSS every `everyMs` with the load average: the peak, and a timeline (one
 * sample per `stepS` seconds) that shows whether memory grows with the artifacts in flight. For this
 * process the kernel's high-water mark (`VmHWM`) is reset first (`/proc/self/clear_refs`), so the
 * peak it reports at the end is exact, not only the highest sample; and each sample splits the heap
 * from the Buffers.
 */
export function sampleRss(
  pid: number,
  everyMs = 200,
): {
  stop(): { peak: number; hwm: number | undefined; start: number; timeline: RssSample[] };
} {
  const started = Date.now();
  const self = pid === process.pid;
  const hwmReset = self && resetPeakRss();
  let peak = 0;
  const timeline: RssSample[] = [];
  const sample = (): void => {
    const rss = statusBytes(pid, 'VmRSS');
    peak = Math.max(peak, rss);
    const memory = self ? process.memoryUsage() : undefined;
    timeline.push({
      s: (Date.now() - started) / 1000,
      rss,
      load: loadavg()[0] as number,
      ...(memory ? { heapUsed: memory.heapUsed, external: memory.external } : {}),
    });
  };
  const timer = setInterval(sample, everyMs);
  sample();
  const start = timeline[0]?.rss ?? 0;
  return {
    stop() {
      clearInterval(timer);
      sample();
      const hwm = hwmReset ? statusBytes(pid, 'VmHWM') : undefined;
      return { peak: Math.max(peak, hwm ?? 0), hwm, start, timeline };
    },
  };
}

/** Resets this process's `VmHWM` to its current RSS (Linux ≥ 4.0); false where that is not possible. */
function resetPeakRss(): boolean {
  try {
    writeFileSync('/proc/self/clear_refs', '5');
    return true;
  } catch {
    return false;
  }
}

/** The timeline thinned to one line per `stepS` seconds: the highest RSS in each step. */
export function rssTimelineLines(timeline: readonly RssSample[], stepS = 10): string[] {
  const steps = new Map<number, RssSample>();
  for (const t of timeline) {
    const k = Math.floor(t.s / stepS);
    const prev = steps.get(k);
    if (!prev || t.rss > prev.rss) steps.set(k, t);
  }
  const mb = (bytes: number): string => (bytes / 1024 / 1024).toFixed(0).padStart(5);
  return [...steps].map(
    ([k, v]) =>
      `  ${String(k * stepS).padStart(4)}-${String((k + 1) * stepS).padEnd(4)} s  ${mb(v.rss)} MB  load ${v.load.toFixed(1)}` +
      (v.heapUsed !== undefined && v.external !== undefined
        ? `  (heap used ${mb(v.heapUsed)} MB, Buffers ${mb(v.external)} MB)`
        : ''),
  );
}
