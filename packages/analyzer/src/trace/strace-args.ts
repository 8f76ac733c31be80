// Splitting and decoding of strace syscall arguments: fd decorations (-y/-yy), sockaddrs, string arrays.
import { readQuoted, unescapeBare } from './c-string.js';

/**
 * Splits the argument list that starts at `start` (just after the syscall's `(`). Returns the
 * top-level arguments and the index of the closing `)`, or undefined when the list is not closed.
 */
export function splitArgs(text: string, start: number): { args: string[]; end: number } | undefined {
  const args: string[] = [];
  let depth = 0;
  let angle = 0;
  let argStart = start;
  let i = start;
  const n = text.length;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (angle > 0) {
      if (c === 60 /* < */) angle++;
      else if (c === 62 /* > */ && text.charCodeAt(i - 1) !== 45 /* - */) angle--;
      i++;
      continue;
    }
    switch (c) {
      case 34 /* " */: {
        const end = skipQuoted(text, i);
        if (end < 0) return undefined;
        i = end;
        continue;
      }
      case 40: // (
      case 91: // [
      case 123: // {
        depth++;
        break;
      case 93: // ]
      case 125: // }
        depth--;
        break;
      case 41: // )
        if (depth === 0) {
          const last = text.slice(argStart, i).trim();
          if (last !== '' || args.length > 0) args.push(last);
          return { args, end: i };
        }
        depth--;
        break;
      case 60: {
        // `<` opens a -y/-yy decoration right after an fd number or AT_FDCWD.
        const prev = text.charCodeAt(i - 1);
        if ((prev >= 48 && prev <= 57) || (prev >= 65 && prev <= 90) || (prev >= 97 && prev <= 122))
          angle = 1;
        break;
      }
      case 44: // ,
        if (depth === 0) {
          args.push(text.slice(argStart, i).trim());
          argStart = i + 1;
        }
        break;
    }
    i++;
  }
  return undefined;
}

/** Index just past a quoted string (and a `...` truncation marker) starting at `start`, or -1. */
export function skipQuoted(text: string, start: number): number {
  let i = start + 1;
  const n = text.length;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 92 /* \ */) {
      i += 2;
      continue;
    }
    if (c === 34) {
      i++;
      if (text.startsWith('...', i)) i += 3;
      return i;
    }
    i++;
  }
  return -1;
}

export interface Endpoint {
  address: string;
  port: number;
}

export interface SocketInfo {
  protocol: 'tcp' | 'udp' | 'unix' | 'other';
  local?: Endpoint;
  remote?: Endpoint;
  /** For UNIX sockets: the path when strace showed one. */
  path?: string;
}

export interface FdArg {
  /** The fd number, `AT_FDCWD`, or undefined when the argument is not an fd. */
  fd: number | 'AT_FDCWD' | undefined;
  /** The path strace decoded for the fd (-y / -yy), when it is a file or directory. */
  path?: string;
  socket?: SocketInfo;
}

const SOCKET_DECORATION = /^(TCP|UDP|UDPLITE|UNIX|NETLINK|RAW|PACKET|SCTP)(v6)?:\[(.*)\]$/;

/** Decodes `3</etc/x>`, `AT_FDCWD</tmp>`, `20<TCP:[1.2.3.4:5->6.7.8.9:80]>`, `3<socket:[123]>`, `3`. */
export function parseFdArg(arg: string): FdArg {
  const lt = arg.indexOf('<');
  const head = lt < 0 ? arg : arg.slice(0, lt);
  const fd = head === 'AT_FDCWD' ? 'AT_FDCWD' : /^-?\d+$/.test(head) ? Number(head) : undefined;
  if (lt < 0 || !arg.endsWith('>')) return { fd };
  const inner = arg.slice(lt + 1, -1);
  if (inner.startsWith('/')) {
    // `/dev/null<char 1:3>`: the device suffix is not part of the path.
    const sub = inner.indexOf('<');
    return { fd, path: unescapeBare(sub < 0 ? inner : inner.slice(0, sub)) };
  }
  const m = SOCKET_DECORATION.exec(inner);
  if (m) return { fd, socket: decodeSocket(m[1] as string, m[3] as string) };
  if (inner.startsWith('socket:[')) return { fd, socket: { protocol: 'other' } };
  return { fd };
}

function decodeSocket(kind: string, inner: string): SocketInfo {
  const protocol =
    kind === 'TCP'
      ? 'tcp'
      : kind === 'UDP' || kind === 'UDPLITE'
        ? 'udp'
        : kind === 'UNIX'
          ? 'unix'
          : 'other';
  if (protocol === 'unix') {
    const path = /"((?:[^"\\]|\\.)*)"/.exec(inner);
    return path ? { protocol, path: unescapeBare(path[1] as string) } : { protocol };
  }
  if (/^\d+$/.test(inner)) return { protocol }; // inode only: not bound/connected yet
  const arrow = inner.indexOf('->');
  const local = parseEndpoint(arrow < 0 ? inner : inner.slice(0, arrow));
  const remote = arrow < 0 ? undefined : parseEndpoint(inner.slice(arrow + 2));
  return { protocol, ...(local ? { local } : {}), ...(remote ? { remote } : {}) };
}

function parseEndpoint(text: string): Endpoint | undefined {
  const colon = text.lastIndexOf(':');
  if (colon < 0) return undefined;
  let address = text.slice(0, colon);
  if (address.startsWith('[') && address.endsWith(']')) address = address.slice(1, -1);
  const port = Number(text.slice(colon + 1));
  return Number.isInteger(port) && address ? { address, port } : undefined;
}

export type Sockaddr =
  | { family: 'inet' | 'inet6'; address: string; port: number }
  | { family: 'unix'; path: string }
  | { family: 'other'; name: string };

/** Decodes a sockaddr struct as strace prints it. */
export function parseSockaddr(arg: string): Sockaddr | undefined {
  const fam = /sa_family=(AF_\w+)/.exec(arg);
  if (!fam) return undefined;
  const family = fam[1] as string;
  if (family === 'AF_INET' || family === 'AF_INET6') {
    const port = /sin6?_port=htons\((\d+)\)/.exec(arg);
    const addr =
      family === 'AF_INET'
        ? /inet_addr\("([^"]*)"\)/.exec(arg)
        : /inet_pton\(AF_INET6,\s*"([^"]*)"/.exec(arg);
    if (!addr) return undefined;
    return {
      family: family === 'AF_INET' ? 'inet' : 'inet6',
      address: addr[1] as string,
      port: port ? Number(port[1]) : 0,
    };
  }
  if (family === 'AF_UNIX') {
    const at = arg.indexOf('sun_path=');
    if (at < 0) return { family: 'unix', path: '' };
    let i = at + 'sun_path='.length;
    const abstract = arg[i] === '@';
    if (abstract) i++;
    const q = readQuoted(arg, i);
    const path = q ? Buffer.from(q.bytes).toString('utf8') : '';
    return { family: 'unix', path: abstract ? `@${path}` : path };
  }
  return { family: 'other', name: family };
}

/** Decodes `["a", "b", ...]` into strings; undefined when the argument is not an array literal. */
export function parseStringArray(arg: string): { values: string[]; truncated: boolean } | undefined {
  const t = arg.trim();
  if (!t.startsWith('[')) return undefined;
  const values: string[] = [];
  let truncated = false;
  let i = 1;
  while (i < t.length) {
    const c = t[i];
    if (c === '"') {
      const q = readQuoted(t, i);
      if (!q) return { values, truncated: true };
      values.push(Buffer.from(q.bytes).toString('utf8'));
      if (q.truncated) truncated = true;
      i = q.end;
    } else if (c === ']') {
      break;
    } else if (t.startsWith('...', i)) {
      truncated = true;
      i += 3;
    } else {
      i++;
    }
  }
  return { values, truncated };
}

/** Splits `O_WRONLY|O_CREAT|O_TRUNC` into a set of flag names. */
export function parseFlags(arg: string): Set<string> {
  return new Set(arg.split('|').map((f) => f.trim()));
}

/** The bytes of every `iov_base="..."` in a sendmsg/sendmmsg/writev argument. */
export function iovBytes(arg: string): Uint8Array[] {
  const out: Uint8Array[] = [];
  let i = arg.indexOf('iov_base="');
  while (i >= 0) {
    const q = readQuoted(arg, i + 'iov_base='.length);
    if (!q) break;
    out.push(q.bytes);
    i = arg.indexOf('iov_base="', q.end);
  }
  return out;
}
