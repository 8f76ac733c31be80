/**
 * `secure-registry use`: points npm at the vetted registry with `npm config set`, remembering what
 * was there before so `--undo` can put it back. The remembered values live in
 * `npm-config-backup.json` next to the CLI's config file (mode 0600: it can hold a previous token).
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { UserError } from '@secure-registry/shared';
import type { Env } from './config.js';
import { npmConfigDelete, npmConfigFile, npmConfigSet } from './npm.js';
import type { NpmConfigLocation } from './npm.js';

/** One key changed by `use`: what it was before (null: absent) and what `use` set. */
export interface ConfigChange {
  file: string;
  location: NpmConfigLocation;
  key: string;
  previous: string | null;
  value: string;
}

export interface BackupState {
  version: 1;
  /** Keyed by `user` or `project:<path of the project .npmrc>`. */
  uses: Record<string, ConfigChange[]>;
}

const EMPTY: BackupState = { version: 1, uses: {} };

/** npm's per-registry config prefix for `url`: `//host[:port]/path/`. */
export function nerfDart(url: string): string {
  const parsed = new URL(url);
  const path = parsed.pathname.endsWith('/') ? parsed.pathname : `${parsed.pathname}/`;
  return `//${parsed.host}${path}`;
}

/** The registry URL for a server URL: the server serves the registry at its root. */
export function registryUrlFor(server: string): string {
  const url = new URL(server);
  return url.href.endsWith('/') ? url.href : `${url.href}/`;
}

/** The value of `key` in npmrc text as npm reads it (last one wins), or null when absent. */
export function readNpmrcValue(text: string, key: string): string | null {
  let found: string | null = null;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith(';')) continue;
    const eq = line.indexOf('=');
    if (eq < 0) continue;
    if (line.slice(0, eq).trim() !== key) continue;
    found = line
      .slice(eq + 1)
      .trim()
      .replace(/^(['"])(.*)\1$/, '$2');
  }
  return found;
}

/** Where `use` keeps the previous values. */
export function backupPath(configFile: string): string {
  return `${dirname(configFile)}/npm-config-backup.json`;
}

export async function readBackup(path: string): Promise<BackupState> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return structuredClone(EMPTY);
    throw error;
  }
  try {
    const data = JSON.parse(text) as BackupState;
    if (data.version === 1 && data.uses && typeof data.uses === 'object') return data;
  } catch {
    // fall through
  }
  throw new UserError('ERR_SR_BACKUP_INVALID', `${path} is not a backup written by secure-registry use`, {
    hint: 'check your npm config by hand (npm config list), then delete that file',
  });
}

async function writeBackup(path: string, state: BackupState): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temp = `${path}.${process.pid}.tmp`;
  await writeFile(temp, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  await rename(temp, path);
}

async function currentValue(file: string, key: string): Promise<string | null> {
  const text = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return '';
    throw error;
  });
  return readNpmrcValue(text, key);
}

export interface UseOptions {
  /** The vetted registry URL (with a trailing slash). */
  registry: string;
  /** A read token for the registry; written as `//host/:_authToken` in the user's npmrc. */
  token?: string | undefined;
  location: NpmConfigLocation;
  cwd: string;
  env: Env;
  backupFile: string;
}

export interface UseResult {
  changes: ConfigChange[];
  /** Files written. */
  files: string[];
}

function useKey(location: NpmConfigLocation, file: string): string {
  return location === 'user' ? 'user' : `project:${file}`;
}

/**
 * Sets `registry` (in the chosen location) and, with a token, `//host/:_authToken` (always in the
 * user's npmrc, so a token never lands in a project file that gets committed). Running it twice
 * keeps the values from before the first run.
 */
export async function useRegistry(options: UseOptions): Promise<UseResult> {
  const { env, cwd } = options;
  const userFile = await npmConfigFile({ location: 'user', cwd, env });
  const file =
    options.location === 'user' ? userFile : await npmConfigFile({ location: 'project', cwd, env });
  const wanted: { file: string; location: NpmConfigLocation; key: string; value: string }[] = [
    { file, location: options.location, key: 'registry', value: options.registry },
  ];
  if (options.token) {
    wanted.push({
      file: userFile,
      location: 'user',
      key: `${nerfDart(options.registry)}:_authToken`,
      value: options.token,
    });
  }
  const state = await readBackup(options.backupFile);
  const key = useKey(options.location, file);
  const before = state.uses[key] ?? [];
  const changes: ConfigChange[] = [];
  for (const item of wanted) {
    const current = await currentValue(item.file, item.key);
    const earlier = before.find((c) => c.file === item.file && c.key === item.key);
    // Still our value from an earlier `use`: keep what was there before that one.
    const previous = earlier && current === earlier.value ? earlier.previous : current;
    changes.push({ ...item, previous });
  }
  // Record first, so an interrupted run can still be undone.
  state.uses[key] = changes;
  await writeBackup(options.backupFile, state);
  for (const change of changes) {
    await npmConfigSet({ key: change.key, value: change.value, location: change.location, cwd, env });
  }
  return { changes, files: [...new Set(changes.map((c) => c.file))] };
}

export interface UndoResult {
  restored: ConfigChange[];
  /** Keys whose value changed since `use` set them: left as they are. */
  skipped: (ConfigChange & { current: string | null })[];
  /** Nothing was recorded for this location. */
  nothingToUndo: boolean;
}

/** Restores what `useRegistry` changed for `location` (deleting keys that were absent before). */
export async function undoRegistry(options: Omit<UseOptions, 'registry' | 'token'>): Promise<UndoResult> {
  const { env, cwd } = options;
  const file =
    options.location === 'user'
      ? await npmConfigFile({ location: 'user', cwd, env })
      : await npmConfigFile({ location: 'project', cwd, env });
  const state = await readBackup(options.backupFile);
  const key = useKey(options.location, file);
  const changes = state.uses[key];
  if (!changes) return { restored: [], skipped: [], nothingToUndo: true };
  const restored: ConfigChange[] = [];
  const skipped: UndoResult['skipped'] = [];
  for (const change of changes) {
    const current = await currentValue(change.file, change.key);
    if (current !== change.value) {
      skipped.push({ ...change, current });
      continue;
    }
    if (change.previous === null) {
      await npmConfigDelete({ key: change.key, location: change.location, cwd, env });
    } else {
      await npmConfigSet({ key: change.key, value: change.previous, location: change.location, cwd, env });
    }
    restored.push(change);
  }
  delete state.uses[key];
  await writeBackup(options.backupFile, state);
  return { restored, skipped, nothingToUndo: false };
}

/**
 * A registry value `use` replaced, if any: the upstream the user had before pointing npm at the
 * vetted registry (`install` resolves against it).
 */
export async function previousRegistry(backupFile: string): Promise<string | undefined> {
  const state = await readBackup(backupFile).catch(() => structuredClone(EMPTY));
  for (const changes of Object.values(state.uses)) {
    const registry = changes.find((c) => c.key === 'registry');
    if (registry?.previous) return registry.previous;
  }
  return undefined;
}
