// Turns one complete strace syscall (arguments already split) into shared trace events.
import type { FileOp } from '@secure-registry/shared';
import { decodeQuotedArg, readQuoted } from './c-string.js';
import { decodeDnsQuery } from './dns-wire.js';
import {
  iovBytes,
  parseFdArg,
  parseFlags,
  parseSockaddr,
  parseStringArray,
  type FdArg,
  type SocketInfo,
} from './strace-args.js';
import { resolvePath } from './paths.js';

export interface Call {
  /** Thread id as strace printed it. */
  tid: number;
  /** Thread-group (process) id. */
  pid: number;
  ts: number;
  name: string;
  args: string[];
  ret: number | undefined;
  errno: string | undefined;
}

/** An event before the parser gives it `seq`, `ppid` and `package`. */
export type PendingEvent =
  | { kind: 'process'; path: string; argv: string[]; cwd?: string; env?: Record<string, string> }
  | { kind: 'file'; op: FileOp; path: string; target?: string; truncate?: boolean }
  | { kind: 'dns'; name: string; qtype: string }
  | { kind: 'connect'; protocol: 'tcp' | 'udp' | 'unix'; address: string; port?: number };

export interface SyscallContext {
  cwd(pid: number): string | undefined;
  setCwd(pid: number, cwd: string): void;
  socket(pid: number, fd: number): TrackedSocket | undefined;
  setSocket(pid: number, fd: number, socket: TrackedSocket): void;
}

export interface TrackedSocket {
  protocol: 'tcp' | 'udp' | 'unix' | 'other';
  remote?: { address: string; port: number };
}

/** Environment entries worth keeping from an execve with `-v` (used for attribution). */
const KEPT_ENV = new Set([
  'npm_package_name',
  'npm_package_version',
  'npm_lifecycle_event',
  'INIT_CWD',
  'PWD',
]);

const str = (arg: string | undefined): string | undefined =>
  arg === undefined ? undefined : decodeQuotedArg(arg)?.value;

/** Resolves a path argument against a dirfd argument (`AT_FDCWD</x>`, `3</dir>`) or the cwd. */
function pathAt(
  ctx: SyscallContext,
  call: Call,
  dirArg: string | undefined,
  pathArg: string | undefined,
): string | undefined {
  const path = str(pathArg);
  if (path === undefined) return undefined;
  const dir = dirArg === undefined ? undefined : parseFdArg(dirArg);
  // -yy shows the cwd on every AT_FDCWD: the most reliable source of it.
  if (dir?.fd === 'AT_FDCWD' && dir.path) ctx.setCwd(call.pid, dir.path);
  if (path.startsWith('/')) return resolvePath(path, undefined);
  let base: string | undefined;
  if (dir !== undefined) {
    base = dir.path ?? (dir.fd === 'AT_FDCWD' ? ctx.cwd(call.pid) : undefined);
  } else {
    base = ctx.cwd(call.pid);
  }
  return resolvePath(path, base);
}

function openOp(flags: Set<string>): FileOp {
  if (flags.has('O_CREAT') || flags.has('O_TMPFILE')) return 'create';
  if (flags.has('O_WRONLY') || flags.has('O_RDWR') || flags.has('O_TRUNC') || flags.has('O_APPEND'))
    return 'write';
  return 'read';
}

function fileEvent(op: FileOp, path: string | undefined, target?: string): PendingEvent[] {
  if (!path) return [];
  return [target === undefined ? { kind: 'file', op, path } : { kind: 'file', op, path, target }];
}

/** An open: its op, and whether it discarded the file's content (O_TRUNC on a write). */
function openEvent(flags: Set<string>, path: string | undefined): PendingEvent[] {
  const op = openOp(flags);
  if (!path) return [];
  return [
    op !== 'read' && flags.has('O_TRUNC')
      ? { kind: 'file', op, path, truncate: true }
      : { kind: 'file', op, path },
  ];
}

export function handleSyscall(ctx: SyscallContext, call: Call): PendingEvent[] {
  const a = call.args;
  const ok = call.ret !== undefined && call.ret >= 0;
  switch (call.name) {
    case 'execve':
    case 'execveat': {
      const at = call.name === 'execveat';
      const path = at ? pathAt(ctx, call, a[0], a[1]) : pathAt(ctx, call, undefined, a[0]);
      if (!path) return [];
      if (call.ret !== 0) return fileEvent('exec', path);
      const argv = parseStringArray(a[at ? 2 : 1] ?? '')?.values ?? [path];
      const envArr = parseStringArray(a[at ? 3 : 2] ?? '')?.values;
      const cwd = ctx.cwd(call.pid);
      const event: PendingEvent = { kind: 'process', path, argv, ...(cwd ? { cwd } : {}) };
      if (envArr) {
        const env: Record<string, string> = {};
        for (const entry of envArr) {
          const eq = entry.indexOf('=');
          if (eq > 0 && KEPT_ENV.has(entry.slice(0, eq))) env[entry.slice(0, eq)] = entry.slice(eq + 1);
        }
        if (Object.keys(env).length > 0) event.env = env;
      }
      return [event];
    }
    case 'open':
      return openEvent(parseFlags(a[1] ?? ''), pathAt(ctx, call, undefined, a[0]));
    case 'creat': // O_CREAT|O_WRONLY|O_TRUNC
      return openEvent(new Set(['O_CREAT', 'O_WRONLY', 'O_TRUNC']), pathAt(ctx, call, undefined, a[0]));
    case 'openat':
      return openEvent(parseFlags(a[2] ?? ''), pathAt(ctx, call, a[0], a[1]));
    case 'openat2': {
      const flags = /flags=([A-Z0-9_|]+)/.exec(a[2] ?? '')?.[1] ?? '';
      return openEvent(parseFlags(flags), pathAt(ctx, call, a[0], a[1]));
    }
    case 'unlink':
    case 'rmdir':
      return fileEvent('delete', pathAt(ctx, call, undefined, a[0]));
    case 'unlinkat':
      return fileEvent('delete', pathAt(ctx, call, a[0], a[1]));
    case 'rename':
      return fileEvent('rename', pathAt(ctx, call, undefined, a[0]), pathAt(ctx, call, undefined, a[1]));
    case 'renameat':
    case 'renameat2':
      return fileEvent('rename', pathAt(ctx, call, a[0], a[1]), pathAt(ctx, call, a[2], a[3]));
    case 'link':
      return fileEvent('create', pathAt(ctx, call, undefined, a[1]), pathAt(ctx, call, undefined, a[0]));
    case 'linkat':
      return fileEvent('create', pathAt(ctx, call, a[2], a[3]), pathAt(ctx, call, a[0], a[1]));
    case 'symlink':
      return fileEvent('create', pathAt(ctx, call, undefined, a[1]), str(a[0]));
    case 'symlinkat':
      return fileEvent('create', pathAt(ctx, call, a[1], a[2]), str(a[0]));
    // `mkdir -p` and recursive mkdir try every ancestor: EEXIST created and changed nothing.
    case 'mkdir':
      return call.errno === 'EEXIST' ? [] : fileEvent('mkdir', pathAt(ctx, call, undefined, a[0]));
    case 'mkdirat':
      return call.errno === 'EEXIST' ? [] : fileEvent('mkdir', pathAt(ctx, call, a[0], a[1]));
    case 'chmod':
      return fileEvent('chmod', pathAt(ctx, call, undefined, a[0]));
    case 'fchmodat':
    case 'fchmodat2':
      return fileEvent('chmod', pathAt(ctx, call, a[0], a[1]));
    case 'fchmod':
      return fileEvent('chmod', parseFdArg(a[0] ?? '').path);
    case 'truncate': {
      const path = pathAt(ctx, call, undefined, a[0]);
      return path ? [{ kind: 'file', op: 'write', path, truncate: true }] : [];
    }
    case 'chdir': {
      const path = pathAt(ctx, call, undefined, a[0]);
      if (ok && path) ctx.setCwd(call.pid, path);
      return [];
    }
    case 'fchdir': {
      const path = parseFdArg(a[0] ?? '').path;
      if (ok && path) ctx.setCwd(call.pid, path);
      return [];
    }
    case 'socket': {
      if (!ok || call.ret === undefined) return [];
      const domain = a[0] ?? '';
      const type = a[1] ?? '';
      const protocol =
        domain === 'AF_UNIX' || domain === 'AF_LOCAL'
          ? 'unix'
          : type.includes('SOCK_STREAM')
            ? 'tcp'
            : type.includes('SOCK_DGRAM')
              ? 'udp'
              : 'other';
      ctx.setSocket(call.pid, call.ret, { protocol });
      return [];
    }
    case 'connect':
      return handleConnect(ctx, call);
    case 'sendto':
    case 'send':
    case 'write':
      return handleSend(ctx, call, a[4], a[1] === undefined ? [] : bytesOf(a[1]));
    case 'sendmsg':
    case 'sendmmsg':
      return handleSend(ctx, call, msgName(a[1] ?? ''), iovBytes(a[1] ?? ''));
    default:
      return [];
  }
}

function bytesOf(arg: string): Uint8Array[] {
  const t = arg.trim();
  if (!t.startsWith('"')) return [];
  const q = readQuoted(t, 0);
  return q ? [q.bytes] : [];
}

/** The `msg_name={...}` sockaddr of a sendmsg, if any. */
function msgName(arg: string): string | undefined {
  const i = arg.indexOf('msg_name={');
  if (i < 0) return undefined;
  const end = arg.indexOf('}', i);
  return end < 0 ? undefined : arg.slice(i, end + 1);
}

function socketOf(ctx: SyscallContext, call: Call, fdArg: FdArg): TrackedSocket | SocketInfo | undefined {
  if (fdArg.socket) return fdArg.socket;
  return typeof fdArg.fd === 'number' ? ctx.socket(call.pid, fdArg.fd) : undefined;
}

function handleConnect(ctx: SyscallContext, call: Call): PendingEvent[] {
  const fdArg = parseFdArg(call.args[0] ?? '');
  const addr = parseSockaddr(call.args[1] ?? '');
  if (!addr || addr.family === 'other') return [];
  const known = socketOf(ctx, call, fdArg);
  if (addr.family === 'unix') {
    return addr.path ? [{ kind: 'connect', protocol: 'unix', address: addr.path }] : [];
  }
  const protocol = known?.protocol === 'udp' ? 'udp' : 'tcp';
  if (typeof fdArg.fd === 'number') {
    ctx.setSocket(call.pid, fdArg.fd, { protocol, remote: { address: addr.address, port: addr.port } });
  }
  return [{ kind: 'connect', protocol, address: addr.address, port: addr.port }];
}

function handleSend(
  ctx: SyscallContext,
  call: Call,
  sockaddrArg: string | undefined,
  payloads: Uint8Array[],
): PendingEvent[] {
  const fdArg = parseFdArg(call.args[0] ?? '');
  const known = socketOf(ctx, call, fdArg);
  const explicit = sockaddrArg ? parseSockaddr(sockaddrArg) : undefined;
  const out: PendingEvent[] = [];
  let remote: { address: string; port: number } | undefined;
  if (explicit && explicit.family !== 'unix' && explicit.family !== 'other') {
    remote = { address: explicit.address, port: explicit.port };
    const protocol = known?.protocol === 'tcp' ? 'tcp' : 'udp';
    out.push({ kind: 'connect', protocol, address: remote.address, port: remote.port });
  } else {
    remote = known?.remote;
  }
  if (remote?.port !== 53) return out;
  for (const bytes of payloads) {
    // The socket type is not always known (no socket() in the trace): try both framings.
    const tcp = known?.protocol === 'tcp';
    const q = decodeDnsQuery(bytes, { tcp }) ?? decodeDnsQuery(bytes, { tcp: !tcp });
    if (q) out.push({ kind: 'dns', name: q.name, qtype: q.qtype });
  }
  return out;
}
