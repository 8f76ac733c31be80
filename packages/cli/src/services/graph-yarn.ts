import type { DependencyGraph, DependencyNode, EdgeType, SourceKind } from '@secure-registry/shared';
import { GraphBuilder } from './graph-flags.js';
import { splitPackageKey } from './graph-pnpm.js';
import { classifySource } from './source-kind.js';

/**
 * Reads a parsed `yarn.lock` (Yarn classic v1 and Yarn Berry, both parsed by `@yarnpkg/parsers`'
 * `parseSyml`) into the shared dependency graph.
 *
 * yarn.lock says what each descriptor (`name@range`) resolves to, not who depends on what from
 * the project: the root's and the workspaces' edges come from their package.json files (Berry
 * also lists each workspace with its dependencies, dev ones merged in). Keys are `name@version`
 * for registry packages (Yarn's own locator otherwise), so one version is one node.
 *
 * Integrity: v1 records npm's `integrity`; Berry's `checksum` is a hash of Yarn's zip archive, not
 * of the registry tarball, so Berry nodes carry none and are matched against upstream's alone.
 */

export interface YarnManifest {
  name?: string;
  version?: string;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
}

export interface YarnReadOptions {
  /** package.json of the project root (`.`) and of each workspace, by path relative to the root. */
  manifests: Map<string, YarnManifest>;
}

interface YarnEntry {
  version?: string;
  resolved?: string;
  integrity?: string;
  resolution?: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  dependenciesMeta?: Record<string, { optional?: boolean }>;
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

export const isBerryLockfile = (data: Record<string, unknown>): boolean => isObject(data.__metadata);

/** Where a Berry locator's protocol says the package comes from. */
function berrySource(reference: string): { source: SourceKind; resolved?: string } {
  const protocol = /^([a-z+]+):/.exec(reference)?.[1];
  if (protocol === 'npm') return { source: 'registry' };
  if (protocol === 'workspace' || protocol === 'link' || protocol === 'portal') {
    return { source: 'link', resolved: reference };
  }
  if (protocol === 'file' || protocol === 'exec') return { source: 'file', resolved: reference };
  if (
    /^(?:git[+:]|github:|gitlab:|bitbucket:|ssh:)/.test(reference) ||
    /\.git(?:#|$)|#commit=/.test(reference)
  ) {
    return { source: 'git', resolved: reference };
  }
  return { source: 'tarball', resolved: reference };
}

/** Berry's `patch:` locator wraps the patched package's locator (URL-encoded, before `#`). */
function unwrapPatch(name: string, reference: string): string {
  if (!reference.startsWith('patch:')) return reference;
  const inner = decodeURIComponent(reference.slice(6).split('#')[0]!);
  const split = splitPackageKey(inner);
  return split && split.name === name ? split.rest : reference;
}

function nodeFor(key: string, name: string, version: string, extra: Partial<DependencyNode>): DependencyNode {
  return {
    key,
    name,
    version,
    source: 'registry',
    dev: false,
    optional: false,
    peer: false,
    hasInstallScript: false,
    ...extra,
  };
}

/** The v1 node of an entry found under `descriptor` (`name@range`, aliases `alias@npm:real@range`). */
function v1Node(descriptor: string, entry: YarnEntry): DependencyNode | undefined {
  const split = splitPackageKey(descriptor);
  if (!split || typeof entry.version !== 'string') return undefined;
  const aliased = split.rest.startsWith('npm:') ? splitPackageKey(split.rest.slice(4)) : undefined;
  const name = aliased?.name ?? split.name;
  let resolved = entry.resolved;
  // yarn v1 appends the tarball's sha1 as a URL fragment; git URLs keep theirs (the commit).
  if (resolved && /^https?:/.test(resolved) && /\.tgz#[0-9a-f]+$/i.test(resolved))
    resolved = resolved.replace(/#[0-9a-f]+$/i, '');
  if (!resolved && /^(?:file|link|portal):/.test(split.rest)) resolved = split.rest;
  const isLink = /^(?:link|portal):/.test(resolved ?? '');
  const source = classifySource({ name, version: entry.version, resolved, isLink });
  const key = source === 'registry' ? `${name}@${entry.version}` : `${name}@${resolved ?? split.rest}`;
  return nodeFor(key, name, entry.version, {
    ...(resolved ? { resolved } : {}),
    ...(entry.integrity && !isLink ? { integrity: entry.integrity } : {}),
    source,
  });
}

function berryNode(entry: YarnEntry): DependencyNode | undefined {
  const split = typeof entry.resolution === 'string' ? splitPackageKey(entry.resolution) : undefined;
  if (!split) return undefined;
  const reference = unwrapPatch(split.name, split.rest);
  const { source, resolved } = berrySource(reference);
  const version = typeof entry.version === 'string' ? entry.version : '0.0.0';
  const key = source === 'registry' ? `${split.name}@${version}` : `${split.name}@${reference}`;
  return nodeFor(key, split.name, version, { ...(resolved ? { resolved } : {}), source });
}

export function graphFromYarnLockfile(
  data: Record<string, unknown>,
  options: YarnReadOptions,
): DependencyGraph {
  const berry = isBerryLockfile(data);
  const builder = new GraphBuilder();
  /** Descriptor (`name@range`) → node key. */
  const byDescriptor = new Map<string, string>();
  const entries: [string, YarnEntry][] = [];
  const workspaceKeys = new Map<string, string>(); // workspace path → node key ('' for the root)

  for (const [header, raw] of Object.entries(data)) {
    if (header === '__metadata' || !isObject(raw)) continue;
    const entry = raw as YarnEntry;
    const descriptors = header.split(/,\s*/);
    let node: DependencyNode | undefined;
    if (berry) {
      node = berryNode(entry);
      const workspacePath = /@workspace:(.*)$/.exec(entry.resolution ?? '')?.[1];
      if (node && workspacePath !== undefined) {
        const key = workspacePath === '.' ? '' : workspacePath;
        workspaceKeys.set(workspacePath, key);
        if (key === '') node = undefined;
        else node = { ...node, key, version: options.manifests.get(workspacePath)?.version ?? '0.0.0' };
        for (const descriptor of descriptors) byDescriptor.set(descriptor, key);
        entries.push([key, entry]);
        if (node) builder.addNode(node);
        continue;
      }
    } else {
      node = v1Node(descriptors[0]!, entry);
    }
    if (!node) continue;
    builder.addNode(node);
    for (const descriptor of descriptors) {
      byDescriptor.set(descriptor, node.key);
      // Berry scopes `file:`/`link:` descriptors to their dependent: `…::locator=<dependent>`.
      const unscoped = descriptor.replace(/::locator=.*$/, '');
      if (unscoped !== descriptor && !byDescriptor.has(unscoped)) byDescriptor.set(unscoped, node.key);
    }
    entries.push([node.key, entry]);
  }

  // Yarn classic: workspaces are not in yarn.lock; their manifests are.
  const workspaceByName = new Map<string, string>();
  for (const [path, manifest] of options.manifests) {
    if (path === '.') continue;
    const key = workspaceKeys.get(path) ?? path;
    if (!builder.nodes.has(key)) {
      builder.addNode(
        nodeFor(key, manifest.name ?? path, manifest.version ?? '0.0.0', {
          resolved: `file:${path}`,
          source: 'link',
        }),
      );
    }
    if (manifest.name) workspaceByName.set(manifest.name, key);
  }
  for (const key of new Set([...workspaceKeys.values(), ...workspaceByName.values()])) {
    if (key !== '') builder.addEdge('', key, 'workspace');
  }

  const lookup = (
    from: string,
    locator: string | undefined,
    name: string,
    range: string,
  ): string | undefined => {
    const descriptor = `${name}@${range}`;
    return (
      (locator ? byDescriptor.get(`${descriptor}::locator=${encodeURIComponent(locator)}`) : undefined) ??
      byDescriptor.get(descriptor) ??
      workspaceByName.get(name)
    );
  };
  const addDeps = (
    from: string,
    locator: string | undefined,
    deps: unknown,
    type: (name: string) => EdgeType,
  ): void => {
    if (!isObject(deps)) return;
    for (const [name, range] of Object.entries(deps)) {
      if (typeof range !== 'string') continue;
      const to = lookup(from, locator, name, range);
      if (to !== undefined) builder.addEdge(from, to, type(name));
    }
  };

  // Edges of the root and the workspaces, from their package.json (dev deps are dev edges).
  for (const [path, manifest] of options.manifests) {
    const from = path === '.' ? '' : (workspaceKeys.get(path) ?? path);
    const locator = berry ? `${manifest.name ?? ''}@workspace:${path}` : undefined;
    const range = (r: string) => (berry && !/^[a-z]+:/.test(r) ? `npm:${r}` : r);
    for (const [field, type] of [
      ['dependencies', 'prod'],
      ['optionalDependencies', 'optional'],
      ['devDependencies', 'dev'],
    ] as const) {
      const deps = manifest[field];
      if (!isObject(deps)) continue;
      const mapped = Object.fromEntries(Object.entries(deps).map(([n, r]) => [n, range(String(r))]));
      addDeps(from, locator, mapped, () => type);
    }
  }
  for (const [from, entry] of entries) {
    const meta = isObject(entry.dependenciesMeta) ? entry.dependenciesMeta : {};
    const isWorkspace = berry && (from === '' || workspaceKeys.has(from));
    // A workspace whose package.json was read already has its edges, with dev ones typed.
    if (isWorkspace && options.manifests.has(from === '' ? '.' : from)) continue;
    addDeps(from, entry.resolution, entry.dependencies, (name) =>
      meta[name]?.optional ? 'optional' : 'prod',
    );
    addDeps(from, entry.resolution, entry.optionalDependencies, () => 'optional');
  }

  const root = options.manifests.get('.');
  return builder.build({
    ...(root?.name ? { name: root.name } : {}),
    ...(root?.version ? { version: root.version } : {}),
  });
}
