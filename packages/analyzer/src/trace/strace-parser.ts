// Parser for Linux strace output (`-f`, `-ff`, `-o`, `-t/-tt/-ttt`, `-T`, `-y/-yy`) into trace events.
//
// Decisions (documented for the reducer and the rules):
// - Failed calls are KEPT as events: a failed open of `~/.ssh/id_rsa` is still evidence of an attempt.
//   Their seqs are listed in `failedSeqs` of the detailed result. A failed execve (PATH search) becomes
//   a `file` event with op `exec`, never a `process` event. A non-blocking connect (`EINPROGRESS`) is
//   not counted as failed.
// - Events carry the thread-group id as `pid` (worker threads of Node do file I/O), `ppid` from the
//   clone/fork/vfork that created the process.
// - Paths are the ones the program asked for, resolved against the dirfd decoration, the `AT_FDCWD`
//   decoration (-yy) or the tracked cwd (chdir/fchdir), not the symlink-resolved fd decoration.
// - Malformed lines are counted in `stats.skipped` and never throw.
import type { TraceEvent } from '@secure-registry/shared';
import { parseGvisorStrace, looksLikeGvisor } from './gvisor-parser.js';
import { splitArgs } from './strace-args.js';
import {
  handleSyscall,
  type Call,
  type PendingEvent,
  type SyscallContext,
  type TrackedSocket,
} from './strace-syscalls.js';

export interface StraceParseOptions {
  /** The pid of a `-ff` per-process file (`<prefix>.<pid>`), or of a trace without pid columns. */
  pidFromFileName?: number;
  /** First `seq` to assign (to merge with events from other sources). Default 0. */
  seqStart?: number;
  /** The working directory of the first traced process, when the caller knows it. */
  cwd?: string;
}

export interface StraceParseStats {
  format: 'strace' | 'gvisor';
  lines: number;
  /** Syscall lines seen (complete or stitched), whether or not they produced events. */
  syscalls: number;
  /** Lines that could not be understood. */
  skipped: number;
  /** `<... resumed>` lines with no matching `<unfinished ...>`. */
  unmatchedResumes: number;
}

export interface StraceParseResult {
  events: TraceEvent[];
  /** Seqs of events that came from calls which returned an error. */
  failedSeqs: number[];
  stats: StraceParseStats;
}

interface RawRecord {
  pid: number | undefined;
  ts: number;
  body: string;
}

const PLACEHOLDER = -1;
const INTERESTING = new Set([
  'execve', 'execveat', 'open', 'openat', 'openat2', 'creat', 'unlink', 'unlinkat', 'rmdir', 'rename',
  'renameat', 'renameat2', 'link', 'linkat', 'symlink', 'symlinkat', 'mkdir', 'mkdirat', 'chmod', 'fchmod',
  'fchmodat', 'fchmodat2', 'truncate', 'chdir', 'fchdir', 'socket', 'connect', 'sendto', 'send', 'sendmsg',
  'sendmmsg', 'write', 'clone', 'clone2', 'clone3', 'fork', 'vfork',
]); // prettier-ignore
const CLONES = new Set(['clone', 'clone2', 'clone3', 'fork', 'vfork']);
const PREFIX = /^\s*(?:\[pid\s+(\d+)\]\s+|(\d+)\s+)?(?:(\d{1,2}):(\d{2}):(\d{2})(\.\d+)?\s+|(\d+\.\d+)\s+)?/;
const ATTACH_MESSAGE = /strace: Process \d+ (?:attached|detached|suspended)[^\n]*(?:\n|$)/g;
const UNFINISHED = '<unfinished ...>';

/** Splits one strace line into its pid prefix, timestamp and body. */
export function splitStraceLine(line: string): RawRecord {
  const m = PREFIX.exec(line) as RegExpExecArray; // every group is optional: always matches
  const pidText = m[1] ?? m[2];
  let ts = 0;
  if (m[3] !== undefined) ts = Number(m[3]) * 3600 + Number(m[4]) * 60 + Number(m[5]) + Number(m[6] ?? 0);
  else if (m[7] !== undefined) ts = Number(m[7]);
  let body = line.slice(m[0].length);
  if (body.endsWith('>')) {
    const t = / <\d+\.\d+>$/.exec(body);
    if (t) body = body.slice(0, t.index);
  }
  return { pid: pidText === undefined ? undefined : Number(pidText), ts, body };
}

function toLines(text: string): string[] {
  const cleaned = text.includes('strace: Process') ? text.replace(ATTACH_MESSAGE, '') : text;
  return cleaned.split('\n');
}

/** Parses strace text into events. Never throws on malformed input. */
export function parseStrace(text: string, options: StraceParseOptions = {}): TraceEvent[] {
  return parseStraceDetailed(text, options).events;
}

/** Like {@link parseStrace}, plus which events came from failed calls and parse statistics. */
export function parseStraceDetailed(text: string, options: StraceParseOptions = {}): StraceParseResult {
  const stream = new StraceStream(options);
  stream.push(text);
  return stream.end();
}

/**
 * strace text parsed as it arrives, in chunks of any size (a file read as a stream): a trace of a
 * batch can be a hundred megabytes, and only the events are kept, never the whole text or its
 * lines. The result is the one {@link parseStraceDetailed} gives for the chunks joined.
 * `translate` rewrites each line first (the sandbox's pid namespace comments).
 */
export class StraceStream {
  private rest = '';
  /** What is left of a line whose attach message took its newline: it joins the next line. */
  private carry = '';
  private lines = 0;
  private readonly state: StraceState;
  /** Until the first line with text says which format this is: the lines so far. */
  private undecided: string[] | undefined = [];
  /** gVisor's format is parsed from the whole text ./gvisor-parser.ts. */
  private gvisor: string[] | undefined;

  constructor(
    private readonly options: StraceParseOptions = {},
    private readonly translate: (line: string) => string = (line) => line,
  ) {
    this.state = new StraceState(options);
  }

  push(chunk: string): void {
    const parts = (this.rest + chunk).split('\n');
    this.rest = parts.pop() ?? '';
    for (const part of parts) this.take(this.translate(part), true);
  }

  end(): StraceParseResult {
    this.take(this.translate(this.rest), false);
    this.rest = '';
    if (this.gvisor) return parseGvisorStrace(this.gvisor.join('\n'), this.options);
    return this.state.finish(this.lines);
  }

  /** One line (`newline`: it ended with one; the text's last line does not). */
  private take(line: string, newline: boolean): void {
    if (this.gvisor) return void this.gvisor.push(line);
    if (this.undecided) {
      this.undecided.push(line);
      if (!/\S/.test(line) && newline) return;
      const lines = this.undecided;
      this.undecided = undefined;
      if (looksLikeGvisor(line)) return void (this.gvisor = lines);
      for (const [i, l] of lines.entries()) this.clean(l, i < lines.length - 1 || newline);
      return;
    }
    this.clean(line, newline);
  }

  /** Drops strace's attach messages (with their newline) and hands on the lines left. */
  private clean(line: string, newline = false): void {
    let piece = newline ? `${line}\n` : line;
    if (piece.includes('strace: Process')) piece = piece.replace(ATTACH_MESSAGE, '');
    const text = this.carry + piece;
    this.carry = '';
    if (text.endsWith('\n')) this.consume(text.slice(0, -1));
    else if (newline) this.carry = text;
    else this.consume(text);
  }

  private consume(line: string): void {
    this.lines++;
    this.state.consume(splitStraceLine(line.endsWith('\r') ? line.slice(0, -1) : line));
  }
}

/** The pid in a `-ff` output file name (`trace.1234` → 1234). */
export function pidFromStraceFileName(name: string): number | undefined {
  const m = /\.(\d+)$/.exec(name);
  return m ? Number(m[1]) : undefined;
}

/** Parses a `-ff` set (one file per pid) as one trace, interleaving lines by timestamp. */
export function parseStraceFiles(
  files: { pid: number; text: string }[],
  options: Omit<StraceParseOptions, 'pidFromFileName'> = {},
): StraceParseResult {
  const records: RawRecord[] = [];
  let lines = 0;
  for (const file of [...files].sort((x, y) => x.pid - y.pid)) {
    for (const line of toLines(file.text)) {
      lines++;
      const r = splitStraceLine(line.endsWith('\r') ? line.slice(0, -1) : line);
      records.push({ ...r, pid: file.pid });
    }
  }
  if (records.every((r) => r.ts > 0 || r.body.trim() === '')) records.sort((x, y) => x.ts - y.ts);
  const state = new StraceState(options);
  for (const r of records) state.consume(r);
  return state.finish(lines);
}

interface Mutable {
  pid: number;
  ppid?: number;
}

class StraceState implements SyscallContext {
  private readonly events: (TraceEvent & Mutable)[] = [];
  private readonly failed: number[] = [];
  private seq: number;
  private readonly tgid = new Map<number, number>();
  private readonly parent = new Map<number, number>();
  private readonly threads = new Set<number>();
  private readonly cwds = new Map<number, string>();
  private readonly sockets = new Map<string, TrackedSocket>();
  private readonly pending = new Map<number, { text: string; ts: number }>();
  private readonly seen = new Set<number>();
  private readonly live = new Set<number>();
  /** Thread ids seen before the clone that made them returned, with the indexes of their events. */
  private readonly unadopted = new Map<number, number[]>();
  private root: number | undefined;
  private placeholderUsed = false;
  private readonly stats: StraceParseStats = {
    format: 'strace',
    lines: 0,
    syscalls: 0,
    skipped: 0,
    unmatchedResumes: 0,
  };

  constructor(private readonly options: StraceParseOptions) {
    this.seq = options.seqStart ?? 0;
  }

  cwd(pid: number): string | undefined {
    return this.cwds.get(pid);
  }
  setCwd(pid: number, cwd: string): void {
    this.cwds.set(pid, cwd);
  }
  socket(pid: number, fd: number): TrackedSocket | undefined {
    return this.sockets.get(`${pid}:${fd}`);
  }
  setSocket(pid: number, fd: number, socket: TrackedSocket): void {
    this.sockets.set(`${pid}:${fd}`, socket);
  }

  private pidOf(tid: number): number {
    return this.tgid.get(tid) ?? tid;
  }

  private tidFor(prefixPid: number | undefined): number {
    if (prefixPid !== undefined) return prefixPid;
    if (this.options.pidFromFileName !== undefined) return this.options.pidFromFileName;
    if (this.live.size === 1) return this.live.values().next().value as number;
    this.placeholderUsed = true;
    return PLACEHOLDER;
  }

  /**
   * First sight of a thread id: adopt it into the family of the clone in flight, or make it the root. When
   * several clones are in flight and they would make it different things (a thread of one process, a
   * child of another), it is not guessed: it stays its own process until a clone returns its id.
   */
  private see(tid: number): void {
    if (this.seen.has(tid)) return;
    this.seen.add(tid);
    this.live.add(tid);
    if (tid === PLACEHOLDER) return;
    if (this.tgid.has(tid) || this.parent.has(tid)) return;
    const cloners: [number, boolean][] = [];
    for (const [ptid, p] of this.pending)
      if (CLONES.has(p.text.slice(0, p.text.indexOf('('))))
        cloners.push([ptid, p.text.includes('CLONE_THREAD')]);
    const families = new Set(cloners.map(([ptid, thread]) => `${this.pidOf(ptid)}:${thread}`));
    const [cloner] = cloners;
    if (cloner && families.size === 1) {
      this.registerChild(cloner[0], tid, cloner[1]);
    } else if (cloner) {
      this.unadopted.set(tid, []);
    } else if (this.root === undefined) {
      this.root = tid;
      if (this.placeholderUsed) {
        // The unprefixed lines so far were this process: alias it to the placeholder's state.
        this.tgid.set(tid, PLACEHOLDER);
        this.live.delete(PLACEHOLDER);
      } else if (this.options.cwd) {
        this.cwds.set(tid, this.options.cwd);
      }
    }
  }

  private registerChild(parentTid: number, child: number, thread: boolean): void {
    const owner = this.pidOf(parentTid);
    const early = this.unadopted.get(child);
    this.unadopted.delete(child);
    if (thread) {
      this.tgid.set(child, owner);
      this.threads.add(child);
      if (early) {
        // What it did before the clone returned belongs to the process it is a thread of.
        for (const i of early) (this.events[i] as Mutable).pid = owner;
        for (const map of [this.parent, this.tgid])
          for (const [k, v] of map) if (v === child) map.set(k, owner);
      }
    } else {
      this.parent.set(child, owner);
      const cwd = this.cwds.get(owner);
      if (cwd !== undefined && !this.cwds.has(child)) this.cwds.set(child, cwd);
    }
    this.live.add(child);
  }

  consume(record: RawRecord): void {
    const body = record.body;
    if (body === '') return;
    const tid = this.tidFor(record.pid);
    if (tid === PLACEHOLDER && this.seen.size === 0 && this.options.cwd)
      this.cwds.set(PLACEHOLDER, this.options.cwd);
    this.see(tid);
    const c0 = body.charCodeAt(0);
    if (c0 === 43 /* + */) return this.exitLine(tid, record.ts, body);
    if (c0 === 45 /* - */ && body.startsWith('--- ')) return; // signal delivery
    if (c0 === 60 /* < */) {
      const m = /^<\.\.\. ([\w]+) resumed>(.*)$/.exec(body);
      const p = this.pending.get(tid);
      if (!m || !p) {
        if (m) this.stats.unmatchedResumes++;
        else this.stats.skipped++;
        return;
      }
      this.pending.delete(tid);
      return this.complete(tid, p.ts, p.text + (m[2] as string));
    }
    if (body.endsWith(UNFINISHED)) {
      const prev = this.pending.get(tid);
      if (prev) this.flush(tid, prev);
      this.pending.set(tid, { text: body.slice(0, -UNFINISHED.length), ts: record.ts });
      return;
    }
    this.complete(tid, record.ts, body);
  }

  private exitLine(tid: number, ts: number, body: string): void {
    const exited = /^\+\+\+ exited with (-?\d+) \+\+\+/.exec(body);
    const killed = exited ? undefined : /^\+\+\+ killed by (SIG\w+)/.exec(body);
    if (!exited && !killed) {
      if (!body.startsWith('+++ superseded')) this.stats.skipped++;
      return;
    }
    const p = this.pending.get(tid);
    if (p) {
      this.pending.delete(tid);
      this.flush(tid, p);
    }
    this.live.delete(tid);
    if (this.threads.has(tid)) return;
    const exit = exited ? { code: Number(exited[1]) } : { signal: (killed as RegExpExecArray)[1] as string };
    this.push(tid, ts, { kind: 'exit', ...exit }, false);
  }

  /** A call that never resumed (the process was killed): its arguments are still evidence. */
  private flush(tid: number, p: { text: string; ts: number }): void {
    this.complete(tid, p.ts, `${p.text.trimEnd().replace(/,$/, '')}) = ?`);
  }

  private complete(tid: number, ts: number, text: string): void {
    const open = text.indexOf('(');
    const name = open > 0 ? text.slice(0, open) : '';
    if (!/^[a-z_][a-z0-9_]*$/.test(name)) {
      this.stats.skipped++;
      return;
    }
    this.stats.syscalls++;
    if (!INTERESTING.has(name)) return;
    const split = splitArgs(text, open + 1);
    if (!split) {
      this.stats.skipped++;
      return;
    }
    const r = /^\s*=\s*(-?\d+|0x[0-9a-fA-F]+|\?)(?:<.*?>+)?(?:\s+(E[A-Z0-9]+))?/.exec(
      text.slice(split.end + 1),
    );
    const ret = r && r[1] !== '?' ? Number(r[1]) : undefined;
    const errno = r?.[2];
    if (CLONES.has(name)) {
      if (ret !== undefined && ret > 0) {
        this.registerChild(tid, ret, split.args.join(',').includes('CLONE_THREAD'));
      }
      return;
    }
    const call: Call = { tid, pid: this.pidOf(tid), ts, name, args: split.args, ret, errno };
    const failed = ret === -1 && errno !== 'EINPROGRESS';
    for (const e of handleSyscall(this, call)) this.push(tid, ts, e, failed);
  }

  private push(
    tid: number,
    ts: number,
    e: PendingEvent | { kind: 'exit'; code?: number; signal?: string },
    failed: boolean,
  ): void {
    const seq = this.seq++;
    if (failed) this.failed.push(seq);
    this.unadopted.get(tid)?.push(this.events.length);
    this.events.push({ ...e, seq, ts, pid: this.pidOf(tid) } as TraceEvent & Mutable);
  }

  finish(lines: number): StraceParseResult {
    for (const [tid, p] of [...this.pending]) {
      this.pending.delete(tid);
      this.flush(tid, p);
    }
    const root = this.root ?? this.options.pidFromFileName ?? 0;
    const canon = (p: number): number => (p === PLACEHOLDER ? root : p);
    for (const e of this.events) {
      const ppid = this.parent.get(e.pid);
      e.pid = canon(e.pid);
      if (ppid !== undefined) e.ppid = canon(ppid);
    }
    return { events: this.events, failedSeqs: this.failed, stats: { ...this.stats, lines } };
  }
}
