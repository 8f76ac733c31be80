/** Which lockfile a project has (no parser loaded: a warm re-scan may need nothing more). */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';

export type LockfileKind = 'npm' | 'pnpm' | 'yarn';

/** The lockfiles read, in the order they are looked for (npm's first, as npm itself would). */
export const PROJECT_LOCKFILES: readonly { name: string; kind: LockfileKind }[] = [
  { name: 'npm-shrinkwrap.json', kind: 'npm' },
  { name: 'package-lock.json', kind: 'npm' },
  { name: 'pnpm-lock.yaml', kind: 'pnpm' },
  { name: 'yarn.lock', kind: 'yarn' },
];

export async function isFile(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined))?.isFile() === true;
}

/** The first lockfile of PROJECT_LOCKFILES present in `dir` (a directory), or undefined. */
export async function findProjectLockfile(
  dir: string,
): Promise<{ path: string; kind: LockfileKind } | undefined> {
  for (const { name, kind } of PROJECT_LOCKFILES) {
    const path = join(dir, name);
    if (await isFile(path)) return { path, kind };
  }
  return undefined;
}
