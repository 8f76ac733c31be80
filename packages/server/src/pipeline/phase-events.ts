// Raw events of a phase: the sandbox's own plumbing removed before reduction, and a bounded
// selection kept for storage (MCP `query_events` reads them).
import type { BehaviourReport, TraceEvent } from '@secure-registry/shared';

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
