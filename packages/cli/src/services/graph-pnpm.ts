import { posix } from 'node:path';
import { UserError } from '@secure-registry/shared';
import type { DependencyGraph, EdgeType } from '@secure-registry/shared';
import { GraphBuilder } from './graph-flags.js';
import { classifySource } from './source-kind.js';

/**
 * Reads parsed `pnpm-lock.yaml` data (lockfile v6 and v9) into the shared dependency graph.
 *
 * - A node per package (peer-dependency variants of one package are one node, keyed
 *   `name@version` as pnpm's `packages` section is in v9; v6's leading `/` is dropped).
 * - Importers (workspace projects) other than `.` are link nodes keyed by their path, reached
 *   from the root by `workspace` edges; `link:` dependencies are link nodes too.
 * - `resolution` gives the integrity, and for tarball, git and directory sources the URL or path.
 * - dev/optional flags are derived from the edges (v9 records no dev flag).
 */

type Deps = Record<string, unknown>;
interface ImporterSnapshot {
  dependencies?: Deps;
  devDependencies?: Deps;
  optionalDependencies?: Deps;
}
interface PackageEntry {
  resolution?: unknown;
  name?: unknown;
  version?: unknown;
  dependencies?: Deps;
  optionalDependencies?: Deps;
  requiresBuild?: boolean;
}

export interface PnpmReadOptions {
  /** Path of the lockfile, for error messages. */
  path: string;
  /** The `name`/`version` of an importer's package.json, when it can be read. */
  importerManifest?: (importerPath: string) => { name?: string; version?: string } | undefined;
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const str = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

/** The major lockfile version pnpm wrote, or a UserError for what is not read here. */
export function pnpmLockfileMajor(data: unknown, path: string): 6 | 9 {
  if (!isObject(data) || data.lockfileVersion === undefined) {
    throw new UserError('ERR_SR_LOCKFILE_INVALID', `${path} has no lockfileVersion: not a pnpm lockfile`);
  }
  const major = Number.parseInt(String(data.lockfileVersion), 10);
  if (major !== 6 && major !== 9) {
    throw new UserError(
      'ERR_SR_LOCKFILE_UNSUPPORTED',
      `${path} has unsupported pnpm lockfileVersion ${JSON.stringify(data.lockfileVersion)}`,
      {
        hint: 'supported: pnpm lockfile v6 (pnpm 8) and v9 (pnpm 9 and later); `pnpm install --lockfile-only` rewrites it',
      },
    );
  }
  return major;
}

/** Drops the peer-dependency / patch suffix `(…)` of a pnpm dependency path. */
const withoutPeers = (ref: string): string => {
  const index = ref.indexOf('(');
  return index === -1 ? ref : ref.slice(0, index);
};

/** `name` and the rest of a `name@rest` package key (scoped names keep their leading `@`). */
export function splitPackageKey(key: string): { name: string; rest: string } | undefined {
  const at = key.indexOf('@', key.startsWith('@') ? 1 : 0);
  if (at <= 0) return undefined;
  return { name: key.slice(0, at), rest: key.slice(at + 1) };
}

const DEP_PATH = /^(?:@[^/@]+\/)?[^@/:]+@/;

/** The package key a dependency reference points at, or a `link:` path. */
function refTarget(major: 6 | 9, depName: string, rawRef: string): { key: string } | { link: string } {
  if (rawRef.startsWith('link:')) return { link: rawRef.slice(5) };
  const ref = withoutPeers(rawRef);
  if (major === 6) {
    if (ref.startsWith('/')) return { key: ref.slice(1) };
    return { key: /^\d/.test(ref) ? `${depName}@${ref}` : ref };
  }
  return { key: DEP_PATH.test(ref) ? ref : `${depName}@${ref}` };
}

const packageKey = (major: 6 | 9, rawKey: string): string => {
  const key = withoutPeers(rawKey);
  return major === 6 && key.startsWith('/') ? key.slice(1) : key;
};

function resolvedOf(resolution: Record<string, unknown> | undefined): string | undefined {
  if (!resolution) return undefined;
  const repo = str(resolution.repo);
  if (resolution.type === 'git' && repo) {
    const url = /^(?:git\+|git:|ssh:)/.test(repo) ? repo : `git+${repo}`;
    const commit = str(resolution.commit);
    return commit ? `${url}#${commit}` : url;
  }
  const directory = str(resolution.directory);
  if (resolution.type === 'directory' && directory) return `file:${directory}`;
  return str(resolution.tarball);
}

export function graphFromPnpmLockfile(data: unknown, options: PnpmReadOptions): DependencyGraph {
  const major = pnpmLockfileMajor(data, options.path);
  const lock = data as Record<string, unknown>;
  const packages = isObject(lock.packages) ? (lock.packages as Record<string, PackageEntry>) : {};
  // v9 keeps dependencies in `snapshots` (one per peer variant); v6 in `packages` itself.
  const snapshots =
    major === 9 && isObject(lock.snapshots) ? (lock.snapshots as Record<string, PackageEntry>) : packages;
  const importers: Record<string, ImporterSnapshot> = isObject(lock.importers)
    ? (lock.importers as Record<string, ImporterSnapshot>)
    : { '.': lock as ImporterSnapshot };

  const builder = new GraphBuilder();
  for (const [rawKey, value] of Object.entries(packages)) {
    if (!isObject(value)) continue;
    const entry = value as PackageEntry;
    const key = packageKey(major, rawKey);
    const split = splitPackageKey(key);
    const name = str(entry.name) ?? split?.name;
    if (!name) {
      throw new UserError(
        'ERR_SR_LOCKFILE_INVALID',
        `${options.path}: packages["${rawKey}"] names no package`,
      );
    }
    const resolution = isObject(entry.resolution) ? entry.resolution : undefined;
    const resolved = resolvedOf(resolution);
    const keyVersion = split && /^\d/.test(split.rest) ? split.rest : undefined;
    const version = str(entry.version) ?? keyVersion ?? '0.0.0';
    const integrity = str(resolution?.integrity);
    builder.addNode({
      key,
      name,
      version,
      ...(resolved ? { resolved } : {}),
      ...(integrity ? { integrity } : {}),
      source: classifySource({ name, version, resolved }),
      dev: false,
      optional: false,
      peer: false,
      hasInstallScript: entry.requiresBuild === true,
    });
  }

  const importerKey = (path: string): string => (path === '.' ? '' : path);
  const addLink = (
    from: string,
    fromDir: string,
    depName: string,
    linkPath: string,
    type: EdgeType,
  ): void => {
    const target = posix.normalize(posix.join(fromDir, linkPath));
    const targetKey = importerKey(target);
    if (targetKey === '') return;
    if (!importers[target]) {
      builder.addNode({
        key: target,
        name: depName,
        version: '0.0.0',
        resolved: `file:${target}`,
        source: 'link',
        dev: false,
        optional: false,
        peer: false,
        hasInstallScript: false,
      });
    }
    builder.addEdge(from, targetKey, type);
  };
  const addDeps = (from: string, fromDir: string, deps: unknown, type: EdgeType): void => {
    if (!isObject(deps)) return;
    for (const [depName, value] of Object.entries(deps)) {
      const ref = isObject(value) ? value.version : value;
      if (typeof ref !== 'string') continue;
      const target = refTarget(major, depName, ref);
      if ('link' in target) addLink(from, fromDir, depName, target.link, type);
      else builder.addEdge(from, target.key, type);
    }
  };

  for (const [path, importer] of Object.entries(importers)) {
    if (!isObject(importer)) continue;
    const key = importerKey(path);
    if (key !== '') {
      const manifest = options.importerManifest?.(path);
      builder.addNode({
        key,
        name: manifest?.name ?? posix.basename(path),
        version: manifest?.version ?? '0.0.0',
        resolved: `file:${path}`,
        source: 'link',
        dev: false,
        optional: false,
        peer: false,
        hasInstallScript: false,
      });
      builder.addEdge('', key, 'workspace');
    }
    addDeps(key, path, importer.dependencies, 'prod');
    addDeps(key, path, importer.optionalDependencies, 'optional');
    addDeps(key, path, importer.devDependencies, 'dev');
  }
  for (const [rawKey, snapshot] of Object.entries(snapshots)) {
    if (!isObject(snapshot)) continue;
    const from = packageKey(major, rawKey);
    addDeps(from, '.', snapshot.dependencies, 'prod');
    addDeps(from, '.', snapshot.optionalDependencies, 'optional');
  }

  const rootManifest = options.importerManifest?.('.');
  return builder.build(
    {
      ...(rootManifest?.name ? { name: rootManifest.name } : {}),
      ...(rootManifest?.version ? { version: rootManifest.version } : {}),
    },
    major,
  );
}
