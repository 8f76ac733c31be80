/**
 * pnpm and Yarn lockfiles, and a package.json without any lockfile: finding them in a project
 * directory and reading them into the shared dependency graph (graph-pnpm.ts, graph-yarn.ts).
 */
import { copyFile, mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, posix, resolve } from 'node:path';
import { parseSyml } from '@yarnpkg/parsers';
import { load as parseYaml } from 'js-yaml';
import { UserError } from '@secure-registry/shared';
import type { DependencyGraph } from '@secure-registry/shared';
import type { Env } from './config.js';
import { withoutBom } from './json-text.js';
import { graphFromPnpmLockfile, pnpmLockfileMajor } from './graph-pnpm.js';
import { graphFromYarnLockfile, isBerryLockfile } from './graph-yarn.js';
import type { YarnManifest } from './graph-yarn.js';
import { isFile } from './lockfile-find.js';
import { resolveFailure, resolveLockfile } from './npm.js';

export { PROJECT_LOCKFILES, findProjectLockfile, isFile } from './lockfile-find.js';
export type { LockfileKind } from './lockfile-find.js';

/**
 * What a reader read besides the lockfile, each path with its contents (undefined: absent); a
 * directory listing under `dir:<path>`. The warm cache (warm-cache.ts) keys a graph on them.
 */
export type ReadInputs = Map<string, string | undefined>;

async function readManifest(path: string, inputs?: ReadInputs): Promise<YarnManifest | undefined> {
  const text = await readFile(path, 'utf8').catch(() => undefined);
  inputs?.set(path, text);
  if (text === undefined) return undefined;
  try {
    const value: unknown = JSON.parse(withoutBom(text));
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as YarnManifest)
      : undefined;
  } catch {
    return undefined;
  }
}

function invalid(path: string, what: string, error: unknown): UserError {
  const detail = error instanceof Error ? error.message.split('\n')[0] : String(error);
  return new UserError('ERR_SR_LOCKFILE_INVALID', `${path} is not valid ${what} (${detail})`, {
    hint: 'the file may be truncated or have merge conflict markers; regenerate it with the package manager',
  });
}

export async function graphFromPnpmFile(
  dir: string,
  path: string,
  text: string,
  inputs?: ReadInputs,
): Promise<DependencyGraph> {
  let data: unknown;
  try {
    data = parseYaml(text);
  } catch (error) {
    throw invalid(path, 'YAML', error);
  }
  pnpmLockfileMajor(data, path);
  const importers = (data as { importers?: Record<string, unknown> }).importers ?? { '.': {} };
  const manifests = new Map<string, YarnManifest | undefined>();
  for (const importer of Object.keys(importers)) {
    manifests.set(importer, await readManifest(join(dir, importer, 'package.json'), inputs));
  }
  return graphFromPnpmLockfile(data, { path, importerManifest: (importer) => manifests.get(importer) });
}

/** Workspace directories named by a Yarn classic root manifest (`dir/*` and plain paths). */
async function yarnClassicWorkspaces(
  dir: string,
  root: YarnManifest,
  inputs?: ReadInputs,
): Promise<string[]> {
  const field = (root as { workspaces?: unknown }).workspaces;
  const patterns = Array.isArray(field)
    ? field
    : Array.isArray((field as { packages?: unknown })?.packages)
      ? (field as { packages: unknown[] }).packages
      : [];
  const found: string[] = [];
  for (const pattern of patterns) {
    if (typeof pattern !== 'string') continue;
    const clean = posix.normalize(pattern.replace(/\/+$/, ''));
    if (clean.endsWith('/*') && !clean.slice(0, -2).includes('*')) {
      const base = clean.slice(0, -2);
      const names = await readdir(join(dir, base)).catch(() => [] as string[]);
      inputs?.set(`dir:${join(dir, base)}`, JSON.stringify(names.sort()));
      for (const name of names.sort()) found.push(posix.join(base, name));
    } else if (!clean.includes('*')) {
      found.push(clean);
    }
  }
  return found;
}

export async function graphFromYarnFile(
  dir: string,
  path: string,
  text: string,
  inputs?: ReadInputs,
): Promise<{ graph: DependencyGraph; berry: boolean }> {
  let data: unknown;
  try {
    data = parseSyml(text);
  } catch (error) {
    throw invalid(path, 'yarn.lock syntax', error);
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new UserError('ERR_SR_LOCKFILE_INVALID', `${path} holds no yarn.lock entries`);
  }
  const record = data as Record<string, unknown>;
  const berry = isBerryLockfile(record);
  const manifests = new Map<string, YarnManifest>();
  const root = await readManifest(join(dir, 'package.json'), inputs);
  if (root) manifests.set('.', root);
  const workspaces = berry
    ? Object.values(record).flatMap((entry) => {
        const match = /@workspace:(.+)$/.exec(String((entry as { resolution?: unknown })?.resolution ?? ''));
        return match && match[1] !== '.' ? [match[1]!] : [];
      })
    : root
      ? await yarnClassicWorkspaces(dir, root, inputs)
      : [];
  for (const workspace of workspaces) {
    const manifest = await readManifest(join(dir, workspace, 'package.json'), inputs);
    if (manifest) manifests.set(workspace, manifest);
  }
  return { graph: graphFromYarnLockfile(record, { manifests }), berry };
}

/**
 * A package.json without a lockfile: resolves it as npm would (`npm install --package-lock-only
 * --ignore-scripts` in a temporary copy, against `registry`; nothing is installed and the project
 * is not touched) and returns the temporary directory holding package.json and package-lock.json.
 */
export async function resolveBareManifest(options: {
  dir: string;
  registry: string;
  env: Env;
}): Promise<{ tmp: string; cleanup: () => Promise<void> }> {
  const manifestPath = join(options.dir, 'package.json');
  const manifest = (await readManifest(manifestPath)) as
    (YarnManifest & { workspaces?: unknown }) | undefined;
  if (!manifest) {
    throw new UserError('ERR_SR_LOCKFILE_INVALID', `${manifestPath} is not a JSON object`);
  }
  if (manifest.workspaces !== undefined) {
    throw new UserError('ERR_SR_NO_LOCKFILE', `${options.dir} is a workspace root without a lockfile`, {
      hint: `create the lockfile first: cd ${JSON.stringify(resolve(options.dir))} && npm install --package-lock-only`,
    });
  }
  const tmp = await mkdtemp(join(tmpdir(), 'sr-resolve-'));
  const cleanup = () => rm(tmp, { recursive: true, force: true });
  try {
    await copyFile(manifestPath, join(tmp, 'package.json'));
    if (await isFile(join(options.dir, '.npmrc')))
      await copyFile(join(options.dir, '.npmrc'), join(tmp, '.npmrc'));
    const result = await resolveLockfile({
      cwd: tmp,
      env: options.env,
      registry: options.registry,
      args: [],
    });
    if (result.exitCode !== 0) throw resolveFailure(result, manifestPath);
    return { tmp, cleanup };
  } catch (error) {
    await cleanup();
    throw error;
  }
}
