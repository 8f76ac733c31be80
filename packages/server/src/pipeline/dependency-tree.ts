// The dependency tree npm would install for one package, with npm's install paths: versions picked
// from the upstream packuments by npm's own picker, hoisted as high as node's module lookup allows
// (the top node_modules when free or already a fitting version, else nested), optional dependencies
// filtered by this machine's os / cpu / libc (and node engine) as npm does. Not done as npm does:
// peer sets are not placed as a unit (npm may pick another version or place for a package whose peers
// conflict; here every dependency is still found by node from its dependent), an existing node is
// never replaced by a later, more widely fitting version, and git / tarball / file specs are left out.
import { checkEngine, checkPlatform } from 'npm-install-checks';
import npa from 'npm-package-arg';
import pickManifest from 'npm-pick-manifest';
import semver from 'semver';
import type { Packument, PackumentVersion } from '../upstream/registry-client.js';

export interface TreeNode {
  /** The install name (an `npm:` alias's own name). */
  name: string;
  /** The registry package it is a version of. */
  packageName: string;
  version: string;
  /** Relative to the project: `node_modules/a`, `node_modules/a/node_modules/b`. */
  path: string;
  /** Reached only through optional dependencies: npm skips it when it cannot be fetched. */
  optional: boolean;
  /** The packument's manifest of the version (dist, dependencies, os, cpu, …). */
  manifest: PackumentVersion;
}

export interface ResolvedTree {
  /** The dependencies in placement order (breadth first, like npm's ideal tree). */
  nodes: TreeNode[];
  /** Non-optional dependencies that could not be resolved or placed, and limits reached. */
  issues: string[];
  /** Optional dependencies npm would skip too (another platform, not resolvable). */
  skipped: string[];
  /** Which placed node each dependent's edge resolved to (by path; the root is `node_modules/<root>`). */
  edges: { from: string; to: string }[];
}

export interface ResolveTreeInput {
  root: { name: string; version: string; manifest: Record<string, unknown> };
  /** Memoized by the caller: it is also called ahead of need to prefetch (its errors then ignored). */
  getPackument(name: string): Promise<Packument>;
  signal: AbortSignal;
  maxPackages: number;
  /** Estimated from `dist.unpackedSize` where upstream gives it. */
  maxUnpackedBytes: number;
  /** The node version of the sandbox (engines): default the running one. */
  nodeVersion?: string;
}

type EdgeType = 'prod' | 'optional' | 'peer';

interface Want {
  packageName: string;
  /** What `pickManifest` is given: a range, a version or a dist-tag. */
  fetchSpec: string;
  type: 'range' | 'version' | 'tag';
}

interface Edge {
  name: string;
  spec: string;
  type: EdgeType;
}

interface ResolvedEdge {
  /** The dependent's location: its lookup chain resolves the edge. */
  from: string;
  name: string;
  want: Want;
  to: string;
}

/** `node_modules/a/node_modules/b` → `node_modules/a`; `node_modules/a` → `` (the project). */
export function containerOf(path: string): string {
  const i = path.lastIndexOf('/node_modules/');
  return i < 0 ? '' : path.slice(0, i);
}

function childPath(container: string, name: string): string {
  return container === '' ? `node_modules/${name}` : `${container}/node_modules/${name}`;
}

/** The locations node's module lookup visits from `location` up to the project. */
function lookupChain(location: string): string[] {
  const chain = [location];
  while (chain.at(-1) !== '') chain.push(containerOf(chain.at(-1) ?? ''));
  return chain;
}

function stringRecord(value: unknown): Record<string, string> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return {};
  return Object.fromEntries(
    Object.entries(value).filter((e): e is [string, string] => typeof e[1] === 'string'),
  );
}

/**
 * A manifest's edges the way npm's Arborist loads them: non-optional peers, then dependencies, then
 * optionalDependencies (a later kind overrides an earlier one for the same name); bundled
 * dependencies are left out (they are inside the tarball). In name order.
 */
export function edgesOf(manifest: Record<string, unknown>): Edge[] {
  const edges = new Map<string, Edge>();
  const meta = (manifest.peerDependenciesMeta ?? {}) as Record<string, { optional?: unknown } | undefined>;
  for (const [name, spec] of Object.entries(stringRecord(manifest.peerDependencies)))
    if (meta[name]?.optional !== true) edges.set(name, { name, spec, type: 'peer' });
  for (const [name, spec] of Object.entries(stringRecord(manifest.dependencies)))
    edges.set(name, { name, spec, type: 'prod' });
  for (const [name, spec] of Object.entries(stringRecord(manifest.optionalDependencies)))
    edges.set(name, { name, spec, type: 'optional' });
  const bundled = manifest.bundleDependencies ?? manifest.bundledDependencies;
  if (bundled === true) for (const [name, edge] of edges) if (edge.type !== 'peer') edges.delete(name);
  if (Array.isArray(bundled)) for (const name of bundled) if (typeof name === 'string') edges.delete(name);
  return [...edges.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** A registry spec as npm parses it; a string saying why for kinds that are not fetched from a registry. */
function parseWant(name: string, spec: string): Want | string {
  let parsed;
  try {
    parsed = npa.resolve(name, spec);
  } catch (error) {
    return `invalid specifier: ${errorMessage(error)}`;
  }
  const target = parsed.type === 'alias' ? parsed.subSpec : parsed;
  if (!target?.name || !target.fetchSpec) return `${parsed.type} dependencies are not supported`;
  if (target.type !== 'range' && target.type !== 'version' && target.type !== 'tag')
    return `${target.type} dependencies are not fetched (registry versions only)`;
  return { packageName: target.name, fetchSpec: target.fetchSpec, type: target.type };
}

/** Whether a placed version fits a dependent's spec (npm's dep-valid for registry specs). */
function accepts(node: Pick<TreeNode, 'packageName' | 'version'>, want: Want): boolean {
  if (node.packageName !== want.packageName) return false;
  if (want.type === 'tag' || want.fetchSpec === '*') return true;
  return semver.satisfies(node.version, want.fetchSpec, true);
}

function errorMessage(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  // npm-install-checks' errors say what the version requires (os, cpu, libc, engines).
  const required = (error as { required?: unknown }).required;
  return required ? `${error.message} (requires ${JSON.stringify(required)})` : error.message;
}

export async function resolveTree(input: ResolveTreeInput): Promise<ResolvedTree> {
  const { root, signal } = input;
  const nodeVersion = input.nodeVersion ?? process.version;
  const rootNode: TreeNode = {
    name: root.name,
    packageName: root.name,
    version: root.version,
    path: `node_modules/${root.name}`,
    optional: false,
    manifest: root.manifest,
  };
  const placed = new Map<string, TreeNode>([[rootNode.path, rootNode]]);
  const resolved: ResolvedEdge[] = [];
  const issues: string[] = [];
  const skipped: string[] = [];
  let estimatedBytes = 0;
  let full = false;

  const fail = (optional: boolean, message: string): void => {
    (optional ? skipped : issues).push(message);
  };
  const incomplete = (why: string): void => {
    if (!full) issues.push(`dependencies incomplete: ${why}; the rest of the tree is left out`);
    full = true;
  };

  // A placement at `level` must not change what an already resolved dependent finds, unless the new
  // version fits it too: a dependent below `level` that resolved the name from above it now sees this.
  const shadowsOthers = (level: string, name: string, candidate: Pick<TreeNode, 'packageName' | 'version'>) =>
    resolved.some(
      (r) =>
        r.name === name &&
        (level === '' || r.from === level || r.from.startsWith(`${level}/node_modules/`)) &&
        containerOf(r.to).length < level.length &&
        !accepts(candidate, r.want),
    );

  const resolveEdge = async (from: TreeNode, edge: Edge): Promise<TreeNode | undefined> => {
    const optional = from.optional || edge.type === 'optional';
    const label = `${edge.name}@${edge.spec} (${edge.type} dependency of ${from.name}@${from.version})`;
    const want = parseWant(edge.name, edge.spec);
    if (typeof want === 'string') return void fail(optional, `${label}: ${want}`);
    // Peers too are looked up from the dependent, as node would: npm places them beside it (a level up)
    // where that fits, and so does this hoisting; where it does not, they are nested under it.
    const start = from.path;
    const chain = lookupChain(start);
    let conflictAt = chain.length;
    for (const [i, level] of chain.entries()) {
      const existing = placed.get(childPath(level, edge.name));
      if (!existing) continue;
      if (accepts(existing, want)) {
        if (!optional) existing.optional = false;
        resolved.push({ from: start, name: edge.name, want, to: existing.path });
        return undefined;
      }
      conflictAt = i;
      break;
    }
    if (full) return undefined;
    if (placed.size - 1 >= input.maxPackages)
      return void incomplete(`more than ${input.maxPackages} packages`);
    let manifest: PackumentVersion;
    try {
      manifest = pickManifest(await input.getPackument(want.packageName), want.fetchSpec, { nodeVersion });
      // npm refuses a required dependency for another platform, and skips an optional one that does
      // not fit the platform or the node version (npm-install-checks, as Arborist calls it).
      if (optional) checkEngine(manifest, null, nodeVersion);
      checkPlatform(manifest);
    } catch (error) {
      signal.throwIfAborted();
      return void fail(optional, `${label}: ${errorMessage(error)}`);
    }
    const version = String(manifest.version);
    const size = Number((manifest.dist as { unpackedSize?: unknown } | undefined)?.unpackedSize);
    if (Number.isFinite(size) && size > 0) {
      if (estimatedBytes + size > input.maxUnpackedBytes)
        return void incomplete(`more than ${Math.round(input.maxUnpackedBytes / 2 ** 20)} MB unpacked`);
      estimatedBytes += size;
    }
    const candidate = { packageName: want.packageName, version };
    // The highest level of the lookup chain below any conflicting version that breaks no one.
    for (let i = conflictAt - 1; i >= 0; i--) {
      const level = chain[i] ?? '';
      if (shadowsOthers(level, edge.name, candidate)) continue;
      const node: TreeNode = {
        name: edge.name,
        packageName: want.packageName,
        version,
        path: childPath(level, edge.name),
        optional,
        manifest,
      };
      placed.set(node.path, node);
      resolved.push({ from: start, name: edge.name, want, to: node.path });
      return node;
    }
    return void fail(
      optional,
      `${label}: no place in the tree for ${want.packageName}@${version} (conflicting versions)`,
    );
  };

  // Packuments are fetched ahead (in parallel) for the edges of every node placed, unless the top
  // level already has a fitting version; the placement itself stays sequential and deterministic.
  const prefetch = (node: TreeNode): void => {
    for (const edge of edgesOf(node.manifest)) {
      const want = parseWant(edge.name, edge.spec);
      if (typeof want === 'string') continue;
      const top = placed.get(childPath('', edge.name));
      if (!top || !accepts(top, want)) input.getPackument(want.packageName).catch(() => undefined);
    }
  };
  // npm's order: the shallowest placed node first, then by path; each node's edges by name. Which
  // version of a name gets the top level depends on it.
  const depth = (path: string): number => path.split('/node_modules/').length;
  const queue: TreeNode[] = [rootNode];
  prefetch(rootNode);
  for (let next = queue.shift(); next; next = queue.shift()) {
    for (const edge of edgesOf(next.manifest)) {
      signal.throwIfAborted();
      const node = await resolveEdge(next, edge);
      if (!node) continue;
      queue.push(node);
      prefetch(node);
    }
    queue.sort((a, b) => depth(a.path) - depth(b.path) || a.path.localeCompare(b.path, 'en'));
  }
  return {
    nodes: [...placed.values()].filter((n) => n !== rootNode),
    issues,
    skipped,
    edges: resolved.map(({ from, to }) => ({ from, to })),
  };
}
