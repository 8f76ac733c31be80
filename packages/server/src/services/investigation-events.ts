/**
 * Reading what the dynamic stages stored in an artifact's `reports`: per phase (`install`,
 * `import`, `browser`) either a behaviour report, the raw events, or `{ report, events }`.
 * Pure; anything that does not validate is skipped, never guessed at.
 */
import { BehaviourReport, Phase, TraceEvent } from '@secure-registry/shared';

export const PHASES = Phase.options;

export interface PhaseData {
  phase: Phase;
  report: BehaviourReport | undefined;
  events: TraceEvent[];
  /** Events the stage dropped to bound the stored size (`eventsOmitted`). */
  omitted: number;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function parseEvents(value: unknown): TraceEvent[] {
  if (!Array.isArray(value)) return [];
  const events: TraceEvent[] = [];
  for (const item of value) {
    const parsed = TraceEvent.safeParse(item);
    if (parsed.success) events.push(parsed.data);
  }
  return events;
}

function parseReport(value: unknown): BehaviourReport | undefined {
  const parsed = BehaviourReport.safeParse(value);
  return parsed.success ? parsed.data : undefined;
}

/** The dynamic data of each phase found in `reports` (phases with nothing stored are left out). */
export function dynamicPhases(reports: Record<string, unknown>): PhaseData[] {
  const found: PhaseData[] = [];
  for (const phase of PHASES) {
    const stored = reports[phase] ?? (isRecord(reports.dynamic) ? reports.dynamic[phase] : undefined);
    if (stored === undefined) continue;
    let report: BehaviourReport | undefined;
    let events: TraceEvent[] = [];
    let omitted = 0;
    if (Array.isArray(stored)) {
      events = parseEvents(stored);
    } else if (isRecord(stored)) {
      // The dynamic stage stores `{ ...report, events, eventsOmitted }`; `{ report, events }` too.
      report = parseReport(stored.report) ?? parseReport(stored.behaviour) ?? parseReport(stored);
      events = parseEvents(stored.events ?? stored.rawEvents);
      if (typeof stored.eventsOmitted === 'number' && stored.eventsOmitted > 0)
        omitted = stored.eventsOmitted;
    }
    if (report || events.length > 0) found.push({ phase, report, events, omitted });
  }
  return found;
}

export interface EventFilter {
  kind?: TraceEvent['kind'] | undefined;
  /** Substring of a file path (or rename target, or a process's cwd). */
  path?: string | undefined;
  /** Substring of a DNS name, address, HTTP host or TLS SNI. */
  host?: string | undefined;
  /** Substring of a process's path or argv: matches the events of those processes. */
  process?: string | undefined;
  phase?: Phase | undefined;
  limit: number;
}

export type PhaseEvent = TraceEvent & { phase: Phase };

function hostsOf(event: TraceEvent): string[] {
  switch (event.kind) {
    case 'dns':
      return [event.name];
    case 'connect':
      return [event.address, ...(event.host ? [event.host] : [])];
    case 'http':
      return [event.host];
    case 'tcp-data':
      return [event.address];
    case 'tls':
      return [event.sni];
    default:
      return [];
  }
}

function pathsOf(event: TraceEvent): string[] {
  switch (event.kind) {
    case 'file':
      return [event.path, ...(event.target ? [event.target] : [])];
    case 'process':
      return [event.path, ...(event.cwd ? [event.cwd] : [])];
    case 'http':
      return [event.path];
    default:
      return [];
  }
}

/** The events matching every given criterion, in phase and sequence order, at most `limit`. */
export function queryEvents(
  phases: readonly PhaseData[],
  filter: EventFilter,
): { events: PhaseEvent[]; total: number } {
  const needle = (value: string | undefined) => value?.toLowerCase();
  const path = needle(filter.path);
  const host = needle(filter.host);
  const proc = needle(filter.process);
  const matched: PhaseEvent[] = [];
  for (const data of phases) {
    if (filter.phase && data.phase !== filter.phase) continue;
    let pids: Set<number> | undefined;
    if (proc !== undefined) {
      pids = new Set();
      for (const event of data.events) {
        if (event.kind !== 'process') continue;
        const text = [event.path, ...event.argv].join(' ').toLowerCase();
        if (text.includes(proc)) pids.add(event.pid);
      }
    }
    for (const event of data.events) {
      if (filter.kind && event.kind !== filter.kind) continue;
      if (path !== undefined && !pathsOf(event).some((p) => p.toLowerCase().includes(path))) continue;
      if (host !== undefined && !hostsOf(event).some((h) => h.toLowerCase().includes(host))) continue;
      if (pids && !pids.has(event.pid)) continue;
      matched.push({ ...event, phase: data.phase });
    }
  }
  matched.sort((a, b) => PHASES.indexOf(a.phase) - PHASES.indexOf(b.phase) || a.seq - b.seq);
  return { events: matched.slice(0, filter.limit), total: matched.length };
}
