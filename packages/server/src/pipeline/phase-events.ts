// Raw events of a phase: the sandbox's own plumbing removed before reduction, and a bounded
// selection kept for storage (MCP `query_events` reads them). And the progress of an artifact's
// analysis steps as it happens: `package.phase` scan events (what is running now, where, how long).
import type {
  BehaviourReport,
  Phase,
  PhaseProgress,
  StaticReport,
  TraceEvent,
} from '@secure-registry/shared';
import type { ArtifactAnalyzer } from './types.js';

/** The decoy tools report their invocation to the sandbox over loopback on this port (sandbox/decoys.ts). */
export const DECOY_REPORT_PORT = 15003;
/** The resolver the sandbox's resolv.conf names (sandbox/layout.ts); its port-53 traffic is plumbing. */
export const SANDBOX_RESOLVERS = ['192.168.1.1'];

const LOOPBACK = /^(127\.|::1$|::ffff:127\.)/;

/** Removes the decoy tools' reports to the sandbox (a loopback connection per call; the decoy event says it). */
export function withoutSandboxPlumbing(events: readonly TraceEvent[]): TraceEvent[] {
  return events.filter(
    (e) => !(e.kind === 'connect' && e.port === DECOY_REPORT_PORT && LOOPBACK.test(e.address)),
  );
}

/**
 * At most `max` events: every event the report cites and every non-file event first, then file
 * events in order. Returned in trace order, with the number left out.
 */
export function boundEvents(
  events: readonly TraceEvent[],
  report: BehaviourReport,
  max: number,
): { events: TraceEvent[]; omitted: number } {
  if (events.length <= max) return { events: [...events], omitted: 0 };
  const cited = new Set<number>();
  const cite = (list: readonly { seq: number[] }[]): void =>
    list.forEach((x) => x.seq.forEach((s) => cited.add(s)));
  cite(report.processes);
  cite(report.files);
  cite(report.dns);
  cite(report.connections);
  cite(report.http);
  cite(report.honeytokenHits);
  cite(report.decoys);
  cite(report.browser);
  const rank = (e: TraceEvent): number =>
    cited.has(e.seq) ? 0 : e.kind !== 'file' && e.kind !== 'exit' ? 1 : 2;
  const kept = [...events]
    .sort((a, b) => rank(a) - rank(b) || a.seq - b.seq)
    .slice(0, max)
    .sort((a, b) => a.seq - b.seq);
  return { events: kept, omitted: events.length - kept.length };
}

/** What a step reports about itself, before the time is stamped. */
export type PhaseNotice = Omit<PhaseProgress, 'at'>;

/**
 * Where the analysis of one artifact reports its steps (fetch, static, the sandbox phases,
 * investigating); the job runner publishes them as `package.phase` events on every running scan that
 * contains the artifact. Never throws: progress is for people watching, and a failure to tell them
 * must not change an analysis.
 */
export type PhaseProgressSink = (notice: PhaseNotice) => Promise<void>;

/** Stamps the time on a notice. */
export function phaseProgress(notice: PhaseNotice, now = new Date()): PhaseProgress {
  return { ...notice, at: now.toISOString() };
}

/**
 * Runs one step between a `started` and a `finished` (or, when it throws, `failed`) notice. `ended`
 * may turn the result into the end notice's fields (a sandbox run that timed out is `failed`).
 */
export async function inPhase<T>(
  sink: PhaseProgressSink | undefined,
  phase: PhaseNotice['phase'],
  run: () => Promise<T>,
  options: {
    where?: Pick<PhaseNotice, 'sandbox' | 'executor'>;
    ended?: (result: T) => Partial<Pick<PhaseNotice, 'status' | 'batch' | 'detail'>>;
  } = {},
): Promise<T> {
  if (!sink) return run();
  const started = performance.now();
  await sink({ phase, status: 'started', ...options.where });
  let result: T;
  try {
    result = await run();
  } catch (error) {
    await sink({
      phase,
      status: 'failed',
      durationMs: Math.round(performance.now() - started),
      ...options.where,
      detail: (error instanceof Error ? error.message : String(error)).slice(0, 300),
    });
    throw error;
  }
  await sink({
    phase,
    status: 'finished',
    durationMs: Math.round(performance.now() - started),
    ...options.where,
    ...options.ended?.(result),
  });
  return result;
}

/**
 * The sandbox phases a static report says were due (install scripts, import entry points), reported
 * `skipped` with the reason: for a server whose sandbox is off, so that a scan says what did not run.
 */
export async function reportSkippedPhases(
  sink: PhaseProgressSink | undefined,
  report: StaticReport | undefined,
  detail: string,
): Promise<void> {
  if (!sink || !report) return;
  const due: Phase[] = [];
  if (report.installScripts.length > 0) due.push('install');
  if (report.manifest.entryPoints.length > 0) due.push('import');
  for (const phase of due) await sink({ phase, status: 'skipped', sandbox: false, detail });
}

/** The static analyzer of a server whose sandbox is off: the sandbox phases it found due are reported skipped. */
export function withSandboxOff(inner: ArtifactAnalyzer): ArtifactAnalyzer {
  return {
    ...inner,
    async analyze(input) {
      const pieces = await inner.analyze(input);
      await reportSkippedPhases(
        input.progress,
        pieces.static,
        'the sandbox is off on this server (SR_SANDBOX=off)',
      );
      return pieces;
    },
  };
}
