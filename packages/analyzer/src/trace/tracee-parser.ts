// Parser for Tracee JSON events (legacy `trace.Event` of Tracee ≤ v0.24 and the v1beta1 shape) into
// the shared trace events. Input: JSON lines, a JSON array, or one (pretty-printed) object.
// Field names and argument types are those of aquasecurity/tracee v0.24.1 pkg/events/core.go (the
// version the analyze-package workflow pins); `--output option:parse-arguments` turns some integers
// (open flags, socket type) into strings, so both renderings are read.
//
// Mapped: execve / sched_process_exec → process; security_file_open, open/openat/openat2 (flags),
// vfs_write, file_write, magic_write, security_inode_unlink, security_inode_rename, chmod_common →
// file; net_packet_dns(_request/_response) → dns (and answers give connect events their `host`);
// security_socket_connect → connect; net_packet_tcp with SYN (and no ACK) → connect;
// net_packet_http_request → http (Tracee sees plaintext headers, not bodies: body is '' and bodySize
// the Content-Length; the fake internet's own sink records carry TLS requests and bodies);
// sched_process_exit → exit. Other events (signatures, vfs_read, close, clone, packet events without
// a connection start) are counted in `stats.unknown` and skipped. Failed syscalls (negative
// returnValue) are kept, like the strace parser does: an attempt is evidence.
//
// Malformed input fails closed: a line that is not a JSON object, or an object that is not a Tracee
// event (no event name or no pid), throws TraceeParseError instead of producing a shorter report.
import type { FileOp, TraceEvent } from '@secure-registry/shared';
import { resolvePath } from './paths.js';

type Json = Record<string, unknown>;
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
type Pending = DistributiveOmit<TraceEvent, 'seq' | 'ts' | 'pid' | 'ppid' | 'package'>;

const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const num = (v: unknown): number | undefined => {
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
  return typeof n === 'number' && Number.isFinite(n) ? n : undefined;
};

/** Tracee output that is not Tracee events: the trace cannot be trusted, so neither can a report. */
export class TraceeParseError extends Error {
  constructor(
    message: string,
    /** 1-based line of the input (0 for a whole-document error). */
    readonly line: number,
  ) {
    super(line > 0 ? `tracee output line ${line}: ${message}` : `tracee output: ${message}`);
    this.name = 'TraceeParseError';
  }
}

/** Splits the input into event objects; throws TraceeParseError on anything that is not one. */
export function readTraceeJson(input: string): Json[] {
  const text = input.trim();
  if (text === '') return [];
  if (text.startsWith('[') || text.startsWith('{')) {
    let whole: unknown;
    try {
      whole = JSON.parse(text);
    } catch {
      whole = undefined; // Not one document: JSON lines.
    }
    if (Array.isArray(whole)) {
      const bad = whole.findIndex((v) => !isObj(v));
      if (bad >= 0) throw new TraceeParseError(`array element ${bad} is not an object`, 0);
      return whole as Json[];
    }
    if (isObj(whole)) return [whole];
  }
  const out: Json[] = [];
  const lines = text.split('\n');
  for (const [i, line] of lines.entries()) {
    const l = line.trim();
    if (l === '') continue;
    let v: unknown;
    try {
      v = JSON.parse(l);
    } catch {
      throw new TraceeParseError(`not JSON: ${JSON.stringify(l.slice(0, 80))}`, i + 1);
    }
    if (!isObj(v)) throw new TraceeParseError('not a JSON object', i + 1);
    out.push(v);
  }
  return out;
}

/** Event arguments by name, for both `args: [{name, value}]` and v1beta1 `data: [{name, <type>: v}]`. */
function argsOf(e: Json): Json {
  const out: Json = {};
  const list = Array.isArray(e.args) ? e.args : Array.isArray(e.data) ? e.data : [];
  for (const a of list) {
    if (!isObj(a) || typeof a.name !== 'string') continue;
    if ('value' in a) out[a.name] = a.value;
    else {
      const key = Object.keys(a).find((k) => k !== 'name');
      let v = key === undefined ? undefined : a[key];
      if (isObj(v) && Object.keys(v).length === 1 && 'value' in v) v = v.value;
      out[a.name] = v;
    }
  }
  return out;
}

function header(e: Json): { name: string; ts: number; pid: number; ppid?: number } | undefined {
  const name = str(e.eventName) ?? str(e.name);
  if (!name) return undefined;
  let ts = 0;
  if (typeof e.timestamp === 'number') ts = e.timestamp / 1e9;
  else if (isObj(e.timestamp)) ts = (num(e.timestamp.seconds) ?? 0) + (num(e.timestamp.nanos) ?? 0) / 1e9;
  const proc = isObj(e.workload) && isObj(e.workload.process) ? e.workload.process : undefined;
  const ancestor =
    proc && Array.isArray(proc.ancestors) && isObj(proc.ancestors[0]) ? proc.ancestors[0] : undefined;
  const pid =
    num(e.hostProcessId) ??
    num(e.processId) ??
    (proc && isObj(proc.pid) ? num(proc.pid.value) : undefined) ??
    (proc && isObj(proc.thread) ? num(proc.thread.host_tid) : undefined);
  if (pid === undefined) return undefined;
  const ppid =
    num(e.hostParentProcessId) ?? num(e.parentProcessId) ?? num(ancestor?.host_pid) ?? num(ancestor?.pid);
  return { name, ts, pid, ...(ppid !== undefined ? { ppid } : {}) };
}

const O_FLAGS = { O_WRONLY: 0o1, O_RDWR: 0o2, O_CREAT: 0o100, O_TRUNC: 0o1000, O_APPEND: 0o2000 };

function openOp(flags: unknown): FileOp {
  if (typeof flags === 'number') {
    if (flags & O_FLAGS.O_CREAT) return 'create';
    if (flags & (O_FLAGS.O_WRONLY | O_FLAGS.O_RDWR | O_FLAGS.O_TRUNC | O_FLAGS.O_APPEND)) return 'write';
    return 'read';
  }
  const f = str(flags) ?? '';
  if (/O_CREAT|O_TMPFILE/.test(f)) return 'create';
  if (/O_WRONLY|O_RDWR|O_TRUNC|O_APPEND/.test(f)) return 'write';
  return 'read';
}

function sockaddr(v: unknown): { address: string; port?: number; unix: boolean } | undefined {
  if (!isObj(v)) return undefined;
  const fam = str(v.sa_family);
  if (fam === 'AF_UNIX') {
    const path = str(v.sun_path);
    return path ? { address: path, unix: true } : undefined;
  }
  const address = str(v.sin_addr) ?? str(v.sin6_addr);
  const port = num(v.sin_port) ?? num(v.sin6_port);
  return address ? { address, unix: false, ...(port !== undefined ? { port } : {}) } : undefined;
}

const SOCK_STREAM = 1;
const SOCK_DGRAM = 2;

/** `type` is int32 in core.go; parse-arguments renders it "SOCK_STREAM|SOCK_NONBLOCK". */
function socketProtocol(type: unknown, port: number | undefined): 'tcp' | 'udp' {
  const t = typeof type === 'number' ? type & 0xf : undefined;
  const s = str(type) ?? '';
  if (t === SOCK_DGRAM || s.includes('SOCK_DGRAM')) return 'udp';
  if (t === SOCK_STREAM || s.includes('SOCK_STREAM')) return 'tcp';
  return port === 53 ? 'udp' : 'tcp';
}

interface DnsAnswerMap {
  set(ip: string, name: string): void;
}

function mapEvent(name: string, a: Json, answers: DnsAnswerMap): Pending[] {
  switch (name) {
    case 'execve':
    case 'execveat':
    case 'sched_process_exec': {
      const path = str(a.pathname) ?? str(a.cmdpath);
      if (!path) return [];
      const argv = Array.isArray(a.argv) ? a.argv.filter((x): x is string => typeof x === 'string') : [path];
      return [{ kind: 'process', path, argv }];
    }
    case 'security_file_open':
    case 'open':
    case 'openat':
    case 'openat2':
    case 'file_write':
    case 'vfs_write':
    case 'vfs_writev':
    case 'magic_write': {
      const raw = str(a.pathname);
      // vfs_write also reports pipes, sockets and anonymous inodes ("pipe:[12]", "socket:[34]"): not files.
      if (!raw || (name.startsWith('vfs_') && !raw.startsWith('/'))) return [];
      const op = name === 'magic_write' || name.startsWith('vfs_') ? 'write' : openOp(a.flags);
      const truncate =
        op !== 'read' &&
        (typeof a.flags === 'number'
          ? (a.flags & O_FLAGS.O_TRUNC) !== 0
          : /O_TRUNC/.test(str(a.flags) ?? ''));
      return [{ kind: 'file', op, path: resolvePath(raw, undefined), ...(truncate ? { truncate } : {}) }];
    }
    case 'security_inode_unlink': {
      const path = str(a.pathname);
      return path ? [{ kind: 'file', op: 'delete', path }] : [];
    }
    case 'security_inode_rename': {
      const path = str(a.old_path);
      const target = str(a.new_path);
      return path ? [{ kind: 'file', op: 'rename', path, ...(target ? { target } : {}) }] : [];
    }
    case 'chmod_common': {
      const path = str(a.pathname);
      return path ? [{ kind: 'file', op: 'chmod', path }] : [];
    }
    case 'sched_process_exit': {
      const code = num(a.exit_code);
      return [{ kind: 'exit', ...(code !== undefined ? { code } : {}) }];
    }
    case 'security_socket_connect': {
      const sa = sockaddr(a.remote_addr ?? a.sockaddr);
      if (!sa) return [];
      if (sa.unix) return [{ kind: 'connect', protocol: 'unix', address: sa.address }];
      const protocol = socketProtocol(a.type, sa.port);
      return [
        {
          kind: 'connect',
          protocol,
          address: sa.address,
          ...(sa.port !== undefined ? { port: sa.port } : {}),
        },
      ];
    }
    case 'net_packet_tcp': {
      const tcp = isObj(a.proto_tcp) ? a.proto_tcp : {};
      const address = str(a.dst);
      const port = num(a.dst_port);
      if (tcp.SYN !== 1 || tcp.ACK === 1 || !address) return [];
      return [{ kind: 'connect', protocol: 'tcp', address, ...(port !== undefined ? { port } : {}) }];
    }
    case 'net_packet_dns': {
      const dns = isObj(a.proto_dns) ? a.proto_dns : {};
      const out: Pending[] = [];
      for (const q of Array.isArray(dns.questions) ? dns.questions : []) {
        if (isObj(q) && str(q.name))
          out.push({ kind: 'dns', name: q.name as string, qtype: str(q.type) ?? 'A' });
      }
      for (const ans of Array.isArray(dns.answers) ? dns.answers : []) {
        const ip = isObj(ans) ? str(ans.IP) : undefined;
        const first = out[0];
        if (ip && first && first.kind === 'dns') answers.set(ip, first.name);
      }
      return out;
    }
    case 'net_packet_dns_request': {
      const qs = Array.isArray(a.dns_questions) ? a.dns_questions : [];
      return qs.flatMap((q): Pending[] =>
        isObj(q) && str(q.query)
          ? [{ kind: 'dns', name: q.query as string, qtype: str(q.query_type) ?? 'A' }]
          : [],
      );
    }
    case 'net_packet_dns_response': {
      const out: Pending[] = [];
      for (const r of Array.isArray(a.dns_response) ? a.dns_response : []) {
        if (!isObj(r) || !isObj(r.query_data) || !str(r.query_data.query)) continue;
        const q = r.query_data.query as string;
        out.push({ kind: 'dns', name: q, qtype: str(r.query_data.query_type) ?? 'A' });
        for (const ans of Array.isArray(r.dns_answer) ? r.dns_answer : []) {
          if (isObj(ans) && (ans.answer_type === 'A' || ans.answer_type === 'AAAA') && str(ans.answer)) {
            answers.set(ans.answer as string, q);
          }
        }
      }
      return out;
    }
    case 'net_packet_http_request': {
      const req = isObj(a.http_request) ? a.http_request : undefined;
      if (!req) return [];
      const headers: Record<string, string> = {};
      if (isObj(req.headers)) {
        for (const [k, v] of Object.entries(req.headers))
          headers[k] = Array.isArray(v) ? v.join(', ') : String(v);
      }
      return [
        {
          kind: 'http',
          method: str(req.method) ?? 'GET',
          host: str(req.host) ?? '',
          path: str(req.uri_path) ?? '/',
          tls: false,
          headers,
          body: '',
          bodySize: Math.max(0, Math.trunc(num(req.content_length) ?? 0)),
        },
      ];
    }
    default:
      return [];
  }
}

/** The events the analyze-package workflow asks Tracee for (`--events`), all mapped above. */
export const TRACEE_WORKFLOW_EVENTS = [
  'sched_process_exec',
  'sched_process_exit',
  'security_file_open',
  'vfs_write',
  'magic_write',
  'security_inode_rename',
  'security_inode_unlink',
  'chmod_common',
  'security_socket_connect',
  'net_packet_dns',
  'net_packet_http_request',
] as const;

export interface TraceeParseOptions {
  /** First `seq` to assign (to merge with events from other sources). Default 0. */
  seqStart?: number;
}

export interface TraceeParseStats {
  /** Tracee events read. */
  records: number;
  /** Records that produced at least one trace event. */
  mapped: number;
  /** Records of events this parser does not map (or mapped ones without the data to map), by name. */
  unknown: Record<string, number>;
}

export interface TraceeParseResult {
  events: TraceEvent[];
  /** Seqs of events from syscalls that returned an error (negative returnValue). */
  failedSeqs: number[];
  stats: TraceeParseStats;
}

/**
 * Parses Tracee JSON output into trace events. Unknown events are counted and skipped; malformed
 * input throws TraceeParseError (fail closed).
 */
export function parseTraceeEvents(input: string, options: TraceeParseOptions = {}): TraceeParseResult {
  const ipToName = new Map<string, string>();
  const answers: DnsAnswerMap = { set: (ip, name) => void ipToName.set(ip, name) };
  const events: TraceEvent[] = [];
  const failedSeqs: number[] = [];
  const stats: TraceeParseStats = { records: 0, mapped: 0, unknown: {} };
  let seq = options.seqStart ?? 0;
  for (const [i, raw] of readTraceeJson(input).entries()) {
    stats.records++;
    const h = header(raw);
    if (!h) throw new TraceeParseError(`record ${i + 1} is not a Tracee event (no event name or pid)`, 0);
    const mapped = mapEvent(h.name, argsOf(raw), answers);
    if (mapped.length === 0) stats.unknown[h.name] = (stats.unknown[h.name] ?? 0) + 1;
    else stats.mapped++;
    const failed = (num(raw.returnValue) ?? 0) < 0;
    for (const e of mapped) {
      if (failed) failedSeqs.push(seq);
      events.push({
        ...e,
        seq: seq++,
        ts: h.ts,
        pid: h.pid,
        ...(h.ppid !== undefined ? { ppid: h.ppid } : {}),
      } as TraceEvent);
    }
  }
  // DNS answers can arrive after the connect in file order only by accident of buffering: join at the end.
  for (const e of events) {
    if (e.kind === 'connect' && !e.host) {
      const host = ipToName.get(e.address);
      if (host) e.host = host;
    }
  }
  return { events, failedSeqs, stats };
}
