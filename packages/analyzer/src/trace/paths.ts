// POSIX path helpers that never touch the file system (traces come from another machine/namespace).
import { posix } from 'node:path';

/** Resolves `path` against `base` (when relative) and normalises `.`/`..`; keeps a trailing-less form. */
export function resolvePath(path: string, base: string | undefined): string {
  if (path === '') return base ?? '';
  if (path.startsWith('/')) return normalise(path);
  if (!base || !base.startsWith('/')) return normalise(path);
  return normalise(posix.join(base, path));
}

function normalise(path: string): string {
  const out = posix.normalize(path);
  return out.length > 1 && out.endsWith('/') ? out.slice(0, -1) : out;
}

/** True when `path` is `dir` or inside it. */
export function isWithin(path: string, dir: string): boolean {
  if (!dir) return false;
  const d = dir.endsWith('/') ? dir.slice(0, -1) : dir;
  return path === d || path.startsWith(`${d}/`);
}

/** Expands a leading `~/` against `home`. */
export function expandHome(path: string, home: string): string {
  if (path === '~') return home;
  if (path.startsWith('~/')) return posix.join(home, path.slice(2));
  return path;
}

export const basename = (path: string): string => posix.basename(path);
