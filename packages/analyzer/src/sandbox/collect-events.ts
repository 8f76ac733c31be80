// Merges the run's evidence into one ordered list of shared trace events. Pure.
import type { TraceEvent } from '@secure-registry/shared';
import type { SinkRecord } from './sink-protocol.js';

export interface RunnerMessage {
  type: string;
  ts?: number;
  api?: string;
  action?: string;
  detail?: string;
  [key: string]: unknown;
}

export type Unsequenced = TraceEvent extends infer E
  ? E extends TraceEvent
    ? Omit<E, 'seq'>
    : never
  : never;

/** Keeps only events of the runner process (from its exec on) and its descendants. */
export function sandboxEventsOnly(
  events: TraceEvent[],
  isRunnerExec: (e: TraceEvent) => boolean,
): TraceEvent[] {
  const start = events.find(isRunnerExec);
  if (!start) return [];
  const parent = new Map<number, number>();
  for (const e of events) if (e.ppid !== undefined && !parent.has(e.pid)) parent.set(e.pid, e.ppid);
  const inside = (pid: number): boolean => {
    for (
      let p: number | undefined = pid, hops = 0;
      p !== undefined && hops < 1000;
      p = parent.get(p), hops++
    ) {
      if (p === start.pid) return true;
    }
    return false;
  };
  return events.filter((e) => e.seq >= start.seq && inside(e.pid));
}

export function sinkEvents(records: SinkRecord[]): Unsequenced[] {
  const names = new Map<string, string>();
  const out: Unsequenced[] = [];
  for (const r of records) {
    if (r.t === 'dns' && r.answer) names.set(r.answer, r.name);
    const event = sinkEvent(r, names);
    if (event) out.push(event);
  }
  return out;
}

/** One sink record as a trace event (`pid` 0: the sink does not see the sandbox's processes); none for `conn`. */
export function sinkEvent(r: SinkRecord, names: Map<string, string>): Unsequenced | undefined {
  const base = { ts: r.ts, pid: 0 };
  switch (r.t) {
    case 'dns':
      return { ...base, kind: 'dns', name: r.name, qtype: r.qtype };
    case 'http':
      return {
        ...base,
        kind: 'http',
        method: r.method,
        host: r.host,
        path: r.path,
        tls: r.tls,
        headers: r.headers,
        body: r.body,
        bodySize: r.bodySize,
      };
    case 'tcp':
      return { ...base, kind: 'tcp-data', address: r.address, port: r.port, data: r.data };
    case 'tls':
      return {
        ...base,
        kind: 'tls',
        sni: r.sni || names.get(r.address) || r.address,
        intercepted: r.intercepted,
      };
    case 'decoy':
      return { ...base, kind: 'decoy', tool: r.tool, argv: r.argv };
    case 'conn':
      return undefined;
  }
}

/** Names the DNS sink handed out, by address: lets connect events say which host they were for. */
export function addressNames(records: SinkRecord[]): Map<string, string> {
  const names = new Map<string, string>();
  for (const r of records) if (r.t === 'dns' && r.answer) names.set(r.answer, r.name);
  return names;
}

export function browserEvents(messages: RunnerMessage[]): Unsequenced[] {
  const apis = new Set(['fetch', 'XMLHttpRequest', 'WebSocket', 'ethereum']);
  const actions = new Set(['wrapped', 'replaced', 'called']);
  return messages
    .filter((m) => m.type === 'browser' && typeof m.action === 'string' && actions.has(m.action))
    .map((m) => ({
      ts: typeof m.ts === 'number' ? m.ts : 0,
      pid: 0,
      kind: 'browser' as const,
      api: (apis.has(String(m.api)) ? m.api : 'other') as 'fetch',
      action: m.action as 'called',
      detail: String(m.detail ?? ''),
    }));
}

export function parseJsonLines<T>(text: string): T[] {
  const out: T[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      out.push(JSON.parse(line) as T);
    } catch {
      // a truncated last line or a forged one: skip
    }
  }
  return out;
}

/** Orders events by time (stable), numbers them, attributes them to the package. */
export function mergeEvents(options: {
  trace: TraceEvent[];
  other: Unsequenced[];
  packageId: string;
  names: Map<string, string>;
}): TraceEvent[] {
  const all = [
    ...options.trace.map((e, i) => ({ e: e as Unsequenced, order: i })),
    ...options.other.map((e, i) => ({ e, order: options.trace.length + i })),
  ];
  all.sort((a, b) => a.e.ts - b.e.ts || a.order - b.order);
  return all.map(({ e }, seq) => {
    const event = { ...e, seq, package: options.packageId } as TraceEvent;
    if (event.kind === 'connect' && event.host === undefined) {
      const host = options.names.get(event.address);
      if (host) event.host = host;
    }
    return event;
  });
}

/**
 * strace runs outside the sandbox's pid namespace: with `--pidns-translation` it prints a pid from
 * inside as `9` followed by a comment `22770 in strace's PID NS`. Keeps strace's view (22770), so a
 * clone's return value matches the pid prefix of the child's lines.
 */
export function translatePidNamespace(text: string): string {
  return text.replace(/\b\d+ \/\* (\d+) in strace's PID NS \*\//g, '$1');
}
