import { posix } from 'node:path';

/** Pure checks on archive entry paths. Backslashes count as separators: they are suspicious anyway. */

export type PathCheck =
  { ok: true; path: string | null } | { ok: false; kind: 'absolute-path' | 'path-escape'; detail: string };

function segments(raw: string): string[] {
  return raw.split(/[/\\]+/).filter((part) => part !== '' && part !== '.');
}

export function isAbsoluteLike(raw: string): boolean {
  return raw.startsWith('/') || raw.startsWith('\\') || /^[A-Za-z]:/.test(raw);
}

/**
 * Checks an entry path and strips its first directory (npm packs everything under `package/`,
 * some publishers use another single top directory). `path: null` means the entry is the top
 * directory itself or a file beside it, which npm's extraction (strip: 1) drops.
 */
export function checkEntryPath(raw: string): PathCheck {
  if (isAbsoluteLike(raw)) return { ok: false, kind: 'absolute-path', detail: 'absolute entry path' };
  const parts = segments(raw);
  if (parts.includes('..')) return { ok: false, kind: 'path-escape', detail: 'entry path contains ".."' };
  if (parts.length < 2) return { ok: true, path: null };
  return { ok: true, path: parts.slice(1).join('/') };
}

/** Whether a symlink at `entryPath` (stripped) pointing to `target` stays inside the package. */
export function symlinkStaysInside(entryPath: string, target: string): boolean {
  if (target === '' || isAbsoluteLike(target)) return false;
  const resolved = posix.normalize(posix.join(posix.dirname(entryPath), target.replace(/\\/g, '/')));
  return resolved !== '..' && !resolved.startsWith('../') && !resolved.startsWith('/');
}

/** Whether a hard link target (archive-relative, like an entry path) stays inside the package. */
export function hardlinkStaysInside(target: string): boolean {
  const check = checkEntryPath(target);
  return check.ok && check.path !== null;
}
