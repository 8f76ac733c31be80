/**
 * Snapshots of the files `npm install --package-lock-only` may change, so `secure-registry install`
 * can leave a project exactly as it found it when the scan (or the install) fails.
 */
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export const PROJECT_FILES = ['package.json', 'package-lock.json', 'npm-shrinkwrap.json'] as const;

export interface ProjectSnapshot {
  dir: string;
  /** File name → bytes, or null when the file did not exist. */
  files: Map<string, Buffer | null>;
}

export async function snapshotProject(dir: string): Promise<ProjectSnapshot> {
  const files = new Map<string, Buffer | null>();
  for (const name of PROJECT_FILES) {
    try {
      files.set(name, await readFile(join(dir, name)));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      files.set(name, null);
    }
  }
  return { dir, files };
}

/** Puts every snapshotted file back (deleting the ones that did not exist); returns the names changed. */
export async function restoreProject(snapshot: ProjectSnapshot): Promise<string[]> {
  const changed: string[] = [];
  for (const [name, bytes] of snapshot.files) {
    const path = join(snapshot.dir, name);
    const now = await readFile(path).catch(() => null);
    if (bytes === null) {
      if (now !== null) {
        await rm(path, { force: true });
        changed.push(name);
      }
    } else if (now === null || !now.equals(bytes)) {
      await writeFile(path, bytes);
      changed.push(name);
    }
  }
  return changed;
}

/** Whether the project has a lockfile npm ci can use. */
export function hasLockfile(snapshot: ProjectSnapshot): boolean {
  return snapshot.files.get('package-lock.json') != null || snapshot.files.get('npm-shrinkwrap.json') != null;
}

/**
 * A user npmrc for one npm run that reads the registry with `token`: the user's own npmrc text
 * plus `//host/:_authToken`, written 0600 into `dir`.
 */
export async function npmrcWithToken(options: {
  dir: string;
  userConfigFile: string;
  nerfDart: string;
  token: string;
}): Promise<string> {
  const own = await readFile(options.userConfigFile, 'utf8').catch(() => '');
  const path = join(options.dir, 'npmrc');
  const text = `${own}${own === '' || own.endsWith('\n') ? '' : '\n'}${options.nerfDart}:_authToken=${options.token}\n`;
  await writeFile(path, text, { mode: 0o600 });
  return path;
}
