import type { DependencyEdge, DependencyGraph, DependencyNode, EdgeType } from '@secure-registry/shared';
import { classifySource } from './source-kind.js';

/**
 * A direct reader of `package-lock.json` data that resolves dependencies the way npm does
 * (nearest `node_modules` up the tree). It produces the same graph as the Arborist reader but in
 * linear time: Arborist's `loadVirtual` is quadratic in the number of siblings (10,000 top-level
 * packages take minutes), so very large lockfiles are read here instead.
 */

interface Entry {
  name?: string;
  version?: string;
  resolved?: string;
  integrity?: string;
  link?: boolean;
  dev?: boolean;
  optional?: boolean;
  devOptional?: boolean;
  peer?: boolean;
  inBundle?: boolean;
  hasInstallScript?: boolean;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  workspaces?: unknown;
}

interface V1Entry {
  version?: string;
  resolved?: string;
  integrity?: string;
  dev?: boolean;
  optional?: boolean;
  bundled?: boolean;
  requires?: Record<string, string>;
  dependencies?: Record<string, V1Entry>;
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** The number of package entries in parsed lockfile data (v2/v3 `packages`, or v1 nested `dependencies`). */
export function countLockfileEntries(data: Record<string, unknown>): number {
  if (isObject(data.packages)) return Object.keys(data.packages).length;
  let count = 0;
  const walk = (deps: unknown): void => {
    if (!isObject(deps)) return;
    for (const entry of Object.values(deps)) {
      count++;
      if (isObject(entry)) walk(entry.dependencies);
    }
  };
  walk(data.dependencies);
  return count;
}

/** Flattens lockfile v1's nested `dependencies` into v3-style `packages` entries keyed by location. */
export function packagesFromV1(data: Record<string, unknown>): Record<string, Entry> {
  const packages: Record<string, Entry> = {
    '': {
      ...(typeof data.name === 'string' ? { name: data.name } : {}),
      ...(typeof data.version === 'string' ? { version: data.version } : {}),
    },
  };
  const walk = (parent: string, deps: unknown): void => {
    if (!isObject(deps)) return;
    for (const [name, raw] of Object.entries(deps)) {
      if (!isObject(raw)) continue;
      const entry = raw as V1Entry;
      const location = `${parent ? `${parent}/` : ''}node_modules/${name}`;
      let version = entry.version;
      let resolved = entry.resolved;
      let alias: string | undefined;
      // v1 records aliases as `npm:real-name@1.2.3` and git/file sources in `version`.
      const aliasMatch = version ? /^npm:((?:@[^/]+\/)?[^@]+)@(.+)$/.exec(version) : null;
      if (aliasMatch) {
        alias = aliasMatch[1];
        version = aliasMatch[2];
      } else if (version && /^(?:git\+|git:|github:|file:|https?:)/.test(version)) {
        resolved = resolved ?? version;
        version = undefined;
      }
      packages[location] = {
        ...(alias ? { name: alias } : {}),
        ...(version ? { version } : {}),
        ...(resolved ? { resolved } : {}),
        ...(entry.integrity ? { integrity: entry.integrity } : {}),
        ...(entry.dev ? { dev: true } : {}),
        ...(entry.optional ? { optional: true } : {}),
        ...(entry.bundled ? { inBundle: true } : {}),
        ...(entry.requires ? { dependencies: entry.requires } : {}),
      };
      walk(location, entry.dependencies);
    }
  };
  walk('', data.dependencies);
  // v1 `requires` does not say which dependencies are optional; like npm, call a dependency
  // optional (or dev) when its resolved entry is and the dependent is not.
  for (const [location, entry] of Object.entries(packages)) {
    if (!entry.dependencies) continue;
    const prod: Record<string, string> = {};
    const optional: Record<string, string> = {};
    const dev: Record<string, string> = {};
    for (const [name, spec] of Object.entries(entry.dependencies)) {
      const target = resolveIn(packages, location, name);
      const dep = target === undefined ? undefined : packages[target];
      if (dep?.optional && !entry.optional) optional[name] = spec;
      else if (dep?.dev && !entry.dev) dev[name] = spec;
      else prod[name] = spec;
    }
    entry.dependencies = prod;
    if (Object.keys(optional).length > 0) entry.optionalDependencies = optional;
    if (Object.keys(dev).length > 0) entry.devDependencies = dev;
  }
  return packages;
}

const folderName = (location: string): string => {
  const index = location.lastIndexOf('node_modules/');
  return index === -1 ? location.slice(location.lastIndexOf('/') + 1) : location.slice(index + 13);
};

/** The location whose `node_modules` is searched after this one's. */
const parentLocation = (location: string): string => {
  const index = location.lastIndexOf('/node_modules/');
  return index === -1 ? '' : location.slice(0, index);
};

/** npm's lookup: `<from>/node_modules/<name>`, then each enclosing `node_modules` up to the root. */
function resolveIn(
  entries: Map<string, unknown> | Record<string, unknown>,
  from: string,
  name: string,
): string | undefined {
  const has =
    entries instanceof Map ? (key: string) => entries.has(key) : (key: string) => Object.hasOwn(entries, key);
  let base = from;
  for (;;) {
    const candidate = `${base ? `${base}/` : ''}node_modules/${name}`;
    if (has(candidate)) return candidate;
    if (base === '') return undefined;
    base = parentLocation(base);
  }
}

export function graphFromLockfileData(data: Record<string, unknown>): DependencyGraph {
  const lockfileVersion = typeof data.lockfileVersion === 'number' ? data.lockfileVersion : undefined;
  const packages: Record<string, Entry> = isObject(data.packages)
    ? (data.packages as Record<string, Entry>)
    : packagesFromV1(data);
  const entries = new Map<string, Entry>();
  for (const [location, entry] of Object.entries(packages)) if (isObject(entry)) entries.set(location, entry);
  const root = entries.get('') ?? {};

  // Link targets (by location) and the links pointing at them.
  const linksTo = new Map<string, string[]>();
  for (const [location, entry] of entries) {
    if (!entry.link || typeof entry.resolved !== 'string') continue;
    const list = linksTo.get(entry.resolved);
    if (list) list.push(location);
    else linksTo.set(entry.resolved, [location]);
  }

  const bundlerOf = (location: string): string | undefined => {
    let current = location;
    while (entries.get(current)?.inBundle) current = parentLocation(current);
    return current === location ? undefined : current;
  };
  const isDepBundled = (location: string): boolean => {
    const bundler = bundlerOf(location);
    return bundler !== undefined && bundler !== '';
  };

  const nodes: DependencyNode[] = [];
  const included = new Set<string>();
  for (const [location, entry] of entries) {
    if (location === '' || linksTo.has(location) || isDepBundled(location)) continue;
    const target = entry.link && entry.resolved ? entries.get(entry.resolved) : undefined;
    const pkg = target ?? entry;
    const name = pkg.name ?? entry.name ?? folderName(location);
    const version = pkg.version ?? entry.version ?? '0.0.0';
    const resolved = entry.link && entry.resolved ? `file:${entry.resolved}` : entry.resolved;
    nodes.push({
      key: location,
      name,
      version,
      ...(resolved ? { resolved } : {}),
      ...(entry.integrity && !entry.link ? { integrity: entry.integrity } : {}),
      source: classifySource({ name, version, resolved, isLink: entry.link === true }),
      dev: entry.dev === true,
      optional: entry.optional === true,
      peer: entry.peer === true,
      hasInstallScript: !entry.link && entry.hasInstallScript === true,
    });
    included.add(location);
  }

  const resolve = (from: string, name: string): string | undefined => resolveIn(entries, from, name);

  const edges: DependencyEdge[] = [];
  const seen = new Set<string>();
  const addEdge = (from: string, to: string | undefined, type: EdgeType): void => {
    if (to === undefined || !included.has(to) || from === to) return;
    const id = `${from}\0${to}\0${type}`;
    if (seen.has(id)) return;
    seen.add(id);
    edges.push({ from, to, type });
  };
  const edgesOf = (location: string, entry: Entry, isTop: boolean): Map<string, EdgeType> => {
    const out = new Map<string, EdgeType>();
    const set = (deps: unknown, type: EdgeType): void => {
      if (!isObject(deps)) return;
      for (const name of Object.keys(deps)) if (out.get(name) !== 'workspace') out.set(name, type);
    };
    const peers = isObject(entry.peerDependencies) ? entry.peerDependencies : {};
    const meta = isObject(entry.peerDependenciesMeta) ? entry.peerDependenciesMeta : {};
    for (const name of Object.keys(peers)) out.set(name, meta[name]?.optional ? 'peerOptional' : 'peer');
    set(entry.dependencies, 'prod');
    set(entry.optionalDependencies, 'optional');
    if (isTop) set(entry.devDependencies, 'dev');
    if (location === '' && root.workspaces !== undefined) {
      for (const [link, target] of linkPairs(linksTo)) {
        const name = folderName(link);
        if (parentLocation(link) === '' && entries.has(target) && !out.has(name)) out.set(name, 'workspace');
      }
    }
    return out;
  };

  const rootDeps = edgesOf('', root, true);
  if (rootDeps.size > 0) {
    for (const [name, type] of rootDeps) addEdge('', resolve('', name), type);
  } else {
    for (const location of entries.keys()) {
      if (location === '' || parentLocation(location) !== '' || !location.startsWith('node_modules/'))
        continue;
      if (isDepBundled(location)) continue;
      const entry = entries.get(location)!;
      addEdge('', location, entry.dev ? 'dev' : entry.optional ? 'optional' : 'prod');
    }
  }
  for (const [location, entry] of entries) {
    if (location === '' || entry.link) continue;
    const links = linksTo.get(location);
    const owners = links ?? [isDepBundled(location) ? bundlerOf(location)! : location];
    const isTop = !location.startsWith('node_modules/') && !location.includes('/node_modules/');
    for (const [name, type] of edgesOf(location, entry, isTop)) {
      const to = resolve(location, name);
      for (const owner of owners) addEdge(owner, to, type);
    }
  }
  return {
    root: {
      ...(typeof (root.name ?? data.name) === 'string' ? { name: (root.name ?? data.name) as string } : {}),
      ...(typeof (root.version ?? data.version) === 'string'
        ? { version: (root.version ?? data.version) as string }
        : {}),
    },
    ...(lockfileVersion !== undefined ? { lockfileVersion } : {}),
    nodes,
    edges,
  };
}

function* linkPairs(linksTo: Map<string, string[]>): Generator<[string, string]> {
  for (const [target, links] of linksTo) for (const link of links) yield [link, target];
}
