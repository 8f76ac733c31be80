import { readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { UserError } from '@secure-registry/shared';
import type { DependencyGraph } from '@secure-registry/shared';
import { graphFromArboristTree } from './graph-arborist.js';
import { countLockfileEntries, graphFromLockfileData } from './graph-lockfile.js';
import type { Env } from './config.js';
import { withoutBom } from './json-text.js';
import {
  findProjectLockfile,
  graphFromPnpmFile,
  graphFromYarnFile,
  isFile,
  resolveBareManifest,
} from './lockfile-foreign.js';
import type { LockfileKind, ReadInputs } from './lockfile-foreign.js';

export const LOCKFILE_NAMES = ['npm-shrinkwrap.json', 'package-lock.json'] as const;

/** Above this many entries the linear reader is used instead of Arborist (see graph-lockfile.ts). */
export const ARBORIST_MAX_ENTRIES = 5_000;
const MAX_LOCKFILE_BYTES = 512 * 1024 * 1024;

export interface LoadedLockfile {
  dir: string;
  path: string;
  fileName: string;
  /** Which package manager's lockfile; `resolved` below when there was none. */
  kind: LockfileKind;
  lockfileVersion: number | undefined;
  entries: number;
  reader: 'arborist' | 'direct' | 'pnpm' | 'yarn' | 'yarn-berry';
  /** Set when the project had only a package.json: how it was resolved (npm, against a registry). */
  resolved?: string;
  graph: DependencyGraph;
}

export interface LoadLockfileOptions {
  /**
   * With only a package.json in the directory: resolve it as npm would against this registry
   * (in a temporary copy) and scan the result. Without it, a missing lockfile is an error.
   */
  resolveWith?: { registry: string; env: Env };
  /** pnpm and Yarn lockfiles: filled with the other files their reader read (warm-cache.ts). */
  inputs?: ReadInputs;
}

/** Finds the lockfile npm would use in `dir` (a shrinkwrap wins over package-lock). */
export async function findLockfile(dir: string): Promise<string> {
  const absolute = resolve(dir);
  const info = await stat(absolute).catch(() => undefined);
  if (!info?.isDirectory()) {
    throw new UserError('ERR_SR_NO_PROJECT_DIR', `${absolute} is not a directory`);
  }
  for (const name of LOCKFILE_NAMES) {
    const path = join(absolute, name);
    if ((await stat(path).catch(() => undefined))?.isFile()) return path;
  }
  throw new UserError(
    'ERR_SR_NO_LOCKFILE',
    `no package-lock.json, npm-shrinkwrap.json, pnpm-lock.yaml or yarn.lock in ${absolute}`,
    {
      hint: `create one without installing anything: cd ${JSON.stringify(absolute)} && npm install --package-lock-only`,
    },
  );
}

/** Parses and sanity-checks lockfile text; every problem is a UserError naming the file. */
export function parseLockfileText(text: string, path: string): Record<string, unknown> {
  if (text.trim() === '') throw new UserError('ERR_SR_LOCKFILE_INVALID', `${path} is empty`);
  let data: unknown;
  try {
    data = JSON.parse(withoutBom(text));
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    throw new UserError('ERR_SR_LOCKFILE_INVALID', `${path} is not valid JSON (${detail})`, {
      hint: 'the file may be truncated or have merge conflict markers; regenerate it with `npm install --package-lock-only`',
    });
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new UserError('ERR_SR_LOCKFILE_INVALID', `${path} is not a lockfile: expected a JSON object`);
  }
  const record = data as Record<string, unknown>;
  const version = record.lockfileVersion;
  if (version !== undefined && (typeof version !== 'number' || ![1, 2, 3].includes(version))) {
    throw new UserError(
      'ERR_SR_LOCKFILE_UNSUPPORTED',
      `${path} has unsupported lockfileVersion ${JSON.stringify(version)}`,
      {
        hint: 'supported: lockfileVersion 1, 2 and 3 (npm 5 and later)',
      },
    );
  }
  const hasPackages =
    typeof record.packages === 'object' && record.packages !== null && !Array.isArray(record.packages);
  const hasDependencies =
    typeof record.dependencies === 'object' &&
    record.dependencies !== null &&
    !Array.isArray(record.dependencies);
  if (!hasPackages && !hasDependencies) {
    throw new UserError(
      'ERR_SR_LOCKFILE_INVALID',
      `${path} has neither "packages" nor "dependencies": not an npm lockfile`,
    );
  }
  return record;
}

async function checkSize(path: string): Promise<void> {
  const size = (await stat(path)).size;
  if (size > MAX_LOCKFILE_BYTES) {
    throw new UserError(
      'ERR_SR_LOCKFILE_TOO_LARGE',
      `${path} is ${size} bytes; the limit is ${MAX_LOCKFILE_BYTES}`,
    );
  }
}

/**
 * Reads the project's lockfile (npm's, else pnpm-lock.yaml, else yarn.lock) into the shared
 * dependency graph; with `resolveWith`, a lone package.json is resolved as npm would.
 */
export async function loadLockfile(dir: string, options: LoadLockfileOptions = {}): Promise<LoadedLockfile> {
  const absolute = resolve(dir);
  const info = await stat(absolute).catch(() => undefined);
  if (info?.isDirectory()) {
    const found = await findProjectLockfile(absolute);
    if (found && found.kind !== 'npm') {
      await checkSize(found.path);
      const text = await readFile(found.path, 'utf8');
      if (text.trim() === '') throw new UserError('ERR_SR_LOCKFILE_INVALID', `${found.path} is empty`);
      const base = { dir: absolute, path: found.path, fileName: found.path.slice(absolute.length + 1) };
      if (found.kind === 'pnpm') {
        const graph = await graphFromPnpmFile(absolute, found.path, text, options.inputs);
        const lockfileVersion = graph.lockfileVersion;
        return { ...base, kind: 'pnpm', lockfileVersion, entries: graph.nodes.length, reader: 'pnpm', graph };
      }
      const { graph, berry } = await graphFromYarnFile(absolute, found.path, text, options.inputs);
      const reader = berry ? 'yarn-berry' : 'yarn';
      return {
        ...base,
        kind: 'yarn',
        lockfileVersion: undefined,
        entries: graph.nodes.length,
        reader,
        graph,
      };
    }
    if (!found && options.resolveWith && (await isFile(join(absolute, 'package.json')))) {
      const { tmp, cleanup } = await resolveBareManifest({ dir: absolute, ...options.resolveWith });
      try {
        const loaded = await loadNpmLockfile(tmp);
        const path = join(absolute, 'package.json');
        const resolved = `no lockfile: resolved package.json as npm would (npm install --package-lock-only against ${options.resolveWith.registry})`;
        return { ...loaded, dir: absolute, path, fileName: 'package.json', resolved };
      } finally {
        await cleanup();
      }
    }
  }
  return loadNpmLockfile(dir);
}

async function loadNpmLockfile(dir: string): Promise<LoadedLockfile> {
  const path = await findLockfile(dir);
  await checkSize(path);
  const data = parseLockfileText(await readFile(path, 'utf8'), path);
  const entries = countLockfileEntries(data);
  const lockfileVersion = typeof data.lockfileVersion === 'number' ? data.lockfileVersion : undefined;
  const base = {
    dir: resolve(dir),
    path,
    fileName: path.slice(resolve(dir).length + 1),
    kind: 'npm' as const,
    lockfileVersion,
    entries,
  };
  if (entries > ARBORIST_MAX_ENTRIES || (await directReaderSuffices(data, base.dir))) {
    return { ...base, reader: 'direct', graph: graphFromLockfileData(data) };
  }
  return { ...base, reader: 'arborist', graph: await graphViaArborist(base.dir, path, lockfileVersion) };
}

const MANIFEST_DEPENDENCY_FIELDS = [
  'name',
  'version',
  'dependencies',
  'devDependencies',
  'optionalDependencies',
  'peerDependencies',
  'peerDependenciesMeta',
] as const;

/**
 * Whether the linear reader gives the graph Arborist would, so Arborist (slow to load and to read
 * a lockfile) is not needed: a v2/v3 lockfile without workspaces or links, next to a package.json
 * whose dependencies are the lockfile's root entry. Otherwise (lockfile v1, workspaces, links, no
 * or a changed package.json) Arborist decides, as npm does.
 */
export async function directReaderSuffices(data: Record<string, unknown>, dir: string): Promise<boolean> {
  const packages = data.packages;
  if (typeof packages !== 'object' || packages === null || Array.isArray(packages)) return false;
  const entries = packages as Record<string, unknown>;
  const root = entries[''];
  if (typeof root !== 'object' || root === null || 'workspaces' in root) return false;
  for (const entry of Object.values(entries)) {
    if (typeof entry === 'object' && entry !== null && (entry as { link?: unknown }).link === true)
      return false;
  }
  const text = await readFile(join(dir, 'package.json'), 'utf8').catch(() => undefined);
  if (text === undefined) return false;
  let manifest: unknown;
  try {
    manifest = JSON.parse(withoutBom(text));
  } catch {
    return false; // Arborist reports the broken package.json
  }
  if (typeof manifest !== 'object' || manifest === null || Array.isArray(manifest)) return false;
  if ('workspaces' in manifest || 'bundleDependencies' in manifest || 'bundledDependencies' in manifest) {
    return false;
  }
  const fromManifest = manifest as Record<string, unknown>;
  const fromLockfile = root as Record<string, unknown>;
  return MANIFEST_DEPENDENCY_FIELDS.every((field) =>
    isDeepStrictEqual(emptyAsAbsent(fromManifest[field]), emptyAsAbsent(fromLockfile[field])),
  );
}

function emptyAsAbsent(value: unknown): unknown {
  return typeof value === 'object' && value !== null && Object.keys(value).length === 0 ? undefined : value;
}

/** Reads the lockfile in `dir` with npm's Arborist (loaded on first use). */
export async function graphViaArborist(
  dir: string,
  path: string,
  lockfileVersion: number | undefined,
): Promise<DependencyGraph> {
  const { default: Arborist } = await import('@npmcli/arborist');
  let tree;
  try {
    tree = await new Arborist({ path: dir }).loadVirtual();
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    throw new UserError(
      'ERR_SR_LOCKFILE_UNREADABLE',
      `npm's lockfile reader (Arborist) could not load ${path}: ${detail}`,
      {
        hint: 'check package.json and the lockfile are consistent; `npm install --package-lock-only` regenerates it',
        cause: error,
      },
    );
  }
  return graphFromArboristTree(tree, lockfileVersion);
}
