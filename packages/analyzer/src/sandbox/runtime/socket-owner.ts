// Which sandbox process owns a client socket, seen from the sink (trusted; root in the sandbox's network
// namespace, host pid namespace). /proc/net/{tcp,udp}[6] of this namespace give the socket's inode by its
// local port; /proc/<pid>/fd of the processes running as the sandbox's host uid give the owner. Looked up
// while the client still waits for the sink's answer, so the socket is still open.
import { readFileSync, readdirSync, readlinkSync, statSync } from 'node:fs';

/** Socket inodes by local port, from /proc/net/<table> text. Pure. */
export function inodesByLocalPort(table: string, localPort: number): string[] {
  const out: string[] = [];
  for (const line of table.split('\n').slice(1)) {
    const cols = line.trim().split(/\s+/);
    const local = cols[1];
    const inode = cols[9];
    if (!local || !inode || inode === '0') continue;
    const port = Number.parseInt(local.slice(local.lastIndexOf(':') + 1), 16);
    if (port === localPort) out.push(inode);
  }
  return out;
}

const readOrEmpty = (path: string): string => {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
};

/** The pid (host pid namespace) of a process of `uid` holding the socket with this local port, if any. */
export function socketOwner(protocol: 'tcp' | 'udp', localPort: number, uid: number): number | undefined {
  const inodes = new Set(
    [`/proc/net/${protocol}`, `/proc/net/${protocol}6`].flatMap((t) =>
      inodesByLocalPort(readOrEmpty(t), localPort),
    ),
  );
  if (inodes.size === 0) return undefined;
  const wanted = new Set([...inodes].map((i) => `socket:[${i}]`));
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return undefined;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (statSync(`/proc/${entry}`).uid !== uid) continue;
      for (const fd of readdirSync(`/proc/${entry}/fd`)) {
        let target: string;
        try {
          target = readlinkSync(`/proc/${entry}/fd/${fd}`);
        } catch {
          continue;
        }
        if (wanted.has(target)) return Number(entry);
      }
    } catch {
      // the process ended meanwhile
    }
  }
  return undefined;
}
