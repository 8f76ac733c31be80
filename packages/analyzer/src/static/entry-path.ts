import { posix } from 'node:path';

/** Pure checks on archive entry paths, for flagging hostile entries (npm's extraction decides the files). */

/** Absolute on some platform: `/x`, `\x`, `C:` (node-tar on Windows strips these roots). */
export function isAbsoluteLike(raw: string): boolean {
  return raw.startsWith('/') || raw.startsWith('\\') || /^[A-Za-z]:/.test(raw);
}

/** Whether a symlink at `entryPath` (stripped) pointing to `target` stays inside the package. */
export function symlinkStaysInside(entryPath: string, target: string): boolean {
  if (target === '' || isAbsoluteLike(target)) return false;
  const resolved = posix.normalize(posix.join(posix.dirname(entryPath), target.replace(/\\/g, '/')));
  return resolved !== '..' && !resolved.startsWith('../') && !resolved.startsWith('/');
}
