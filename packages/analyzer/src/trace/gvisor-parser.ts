// Parser for gVisor `runsc --strace` debug-log lines (the format ossf/package-analysis records), e.g.
//   I1203 00:02:39.681902  171 strace.go:625] [   1] ruby X openat(AT_FDCWD /app, 0x55c5319654f0 /app/foobar, O_RDONLY, 0o0) = 0x0 errno=2 (...) (11.709µs)
// Supported: exit (`X`) lines of execve, open/openat/creat, unlink/unlinkat/rmdir, rename/renameat(2),
// mkdir/mkdirat, chmod/fchmodat, chdir, clone/fork/vfork (for ppid) and connect (AF_INET/AF_INET6/AF_UNIX).
// Not supported: entry (`E`) lines (their `X` twin carries the result), DNS payloads (gVisor logs
// buffers as addresses), and the protocol of a connected socket: gVisor prints `socket:[N]`, so a
// connect is reported as `tcp` except port 53, reported as `udp`. Paths containing `, ` are cut.
import type { FileOp, TraceEvent } from '@secure-registry/shared';
import { parseStringArray, splitArgs } from './strace-args.js';
import { resolvePath } from './paths.js';
import type { StraceParseOptions, StraceParseResult } from './strace-parser.js';

const LINE =
  /^[IWEFD]\d{4} (\d{2}):(\d{2}):(\d{2}\.\d+)\s+\d+\s+strace\.go:\d+\]\s+\[\s*(\d+)(?::\s*\d+)?\]\s+(.*?)\s+([EX])\s+([a-z0-9_]+)\(/;

export function looksLikeGvisor(text: string): boolean {
  const first = /^.*\S.*$/m.exec(text)?.[0] ?? '';
  return LINE.test(first.trimStart());
}

/** `0x55c5319654f0 /app/foobar` → `/app/foobar`; `AT_FDCWD /app` → `/app`. */
function valueAfterAddress(arg: string | undefined): string | undefined {
  if (arg === undefined) return undefined;
  const m = /^(?:0x[0-9a-fA-F]+|AT_FDCWD|-?\d+)(?: (.*))?$/.exec(arg);
  return m ? (m[1] ?? '') : undefined;
}

function openOp(flags: string): FileOp {
  if (/O_CREAT|O_TMPFILE/.test(flags)) return 'create';
  if (/O_WRONLY|O_RDWR|O_TRUNC|O_APPEND/.test(flags)) return 'write';
  return 'read';
}

type Pending = { kind: 'file'; op: FileOp; path: string; target?: string } | TraceEventLike;
type TraceEventLike =
  | { kind: 'process'; path: string; argv: string[]; cwd?: string }
  | { kind: 'connect'; protocol: 'tcp' | 'udp' | 'unix'; address: string; port?: number };

export function parseGvisorStrace(text: string, options: StraceParseOptions = {}): StraceParseResult {
  const events: (TraceEvent & { ppid?: number })[] = [];
  const failedSeqs: number[] = [];
  const parent = new Map<number, number>();
  const cwds = new Map<number, string>();
  let seq = options.seqStart ?? 0;
  const stats: StraceParseResult['stats'] = {
    format: 'gvisor',
    lines: 0,
    syscalls: 0,
    skipped: 0,
    unmatchedResumes: 0,
  };
  const lines = text.split('\n');
  stats.lines = lines.length;
  for (const raw of lines) {
    const line = raw.trim();
    if (line === '') continue;
    const m = LINE.exec(line);
    if (!m) {
      stats.skipped++;
      continue;
    }
    stats.syscalls++;
    if (m[6] !== 'X') continue;
    const ts = Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3]);
    const pid = Number(m[4]);
    const name = m[7] as string;
    const split = splitArgs(line, m[0].length);
    if (!split) {
      stats.skipped++;
      continue;
    }
    const a = split.args;
    const rest = line.slice(split.end + 1);
    const ret = /^\s*=\s*(0x[0-9a-fA-F]+|-?\d+)/.exec(rest);
    const errno = /errno=(\d+)/.exec(rest)?.[1];
    const failed = errno !== undefined && errno !== '115';
    const cwd = cwds.get(pid);
    const at = (dirArg: string | undefined, pathArg: string | undefined): string | undefined => {
      const path = valueAfterAddress(pathArg);
      if (!path) return undefined;
      const dir = dirArg === undefined ? cwd : valueAfterAddress(dirArg) || cwd;
      return resolvePath(path, dir);
    };
    if (a[0]?.startsWith('AT_FDCWD ')) cwds.set(pid, valueAfterAddress(a[0]) as string);
    const out: Pending[] = [];
    const file = (op: FileOp, path: string | undefined, target?: string): void => {
      if (path) out.push(target ? { kind: 'file', op, path, target } : { kind: 'file', op, path });
    };
    switch (name) {
      case 'execve': {
        const path = at(undefined, a[0]);
        if (!path) break;
        if (failed) file('exec', path);
        else {
          const argv = parseStringArray(valueAfterAddress(a[1]) ?? '')?.values ?? [path];
          out.push({ kind: 'process', path, argv, ...(cwd ? { cwd } : {}) });
        }
        break;
      }
      case 'open':
        file(openOp(a[1] ?? ''), at(undefined, a[0]));
        break;
      case 'openat':
        file(openOp(a[2] ?? ''), at(a[0], a[1]));
        break;
      case 'creat':
        file('create', at(undefined, a[0]));
        break;
      case 'unlink':
      case 'rmdir':
        file('delete', at(undefined, a[0]));
        break;
      case 'unlinkat':
        file('delete', at(a[0], a[1]));
        break;
      case 'rename':
        file('rename', at(undefined, a[0]), at(undefined, a[1]));
        break;
      case 'renameat':
      case 'renameat2':
        file('rename', at(a[0], a[1]), at(a[2], a[3]));
        break;
      case 'mkdir':
        file('mkdir', at(undefined, a[0]));
        break;
      case 'mkdirat':
        file('mkdir', at(a[0], a[1]));
        break;
      case 'chmod':
        file('chmod', at(undefined, a[0]));
        break;
      case 'fchmodat':
        file('chmod', at(a[0], a[1]));
        break;
      case 'chdir': {
        const path = at(undefined, a[0]);
        if (path && !failed) cwds.set(pid, path);
        break;
      }
      case 'clone':
      case 'fork':
      case 'vfork': {
        const child = ret ? Number(ret[1]) : 0;
        if (child > 0) {
          parent.set(child, pid);
          if (cwd) cwds.set(child, cwd);
        }
        break;
      }
      case 'connect': {
        const sa = a[1] ?? '';
        const family = /Family: (AF_\w+)/.exec(sa)?.[1];
        if (family === 'AF_UNIX') {
          const path = /Addr: "((?:[^"\\]|\\.)*)"/.exec(sa)?.[1];
          if (path) out.push({ kind: 'connect', protocol: 'unix', address: path });
        } else if (family === 'AF_INET' || family === 'AF_INET6') {
          const addr = /Addr: ([^,}]*)/.exec(sa)?.[1]?.trim();
          const port = Number(/Port: (\d+)/.exec(sa)?.[1] ?? NaN);
          if (addr && Number.isInteger(port)) {
            out.push({ kind: 'connect', protocol: port === 53 ? 'udp' : 'tcp', address: addr, port });
          }
        }
        break;
      }
    }
    for (const e of out) {
      if (failed) failedSeqs.push(seq);
      events.push({ ...e, seq: seq++, ts, pid } as TraceEvent);
    }
  }
  for (const e of events) {
    const ppid = parent.get(e.pid);
    if (ppid !== undefined) e.ppid = ppid;
  }
  return { events, failedSeqs, stats };
}
