/**
 * A small, independent reader of npm v2/v3 lockfiles into the shared dependency-graph shape, used
 * to drive the server directly in e2e tests (the CLI has its own, Arborist-based reader).
 */
interface LockEntry {
  name?: string;
  version?: string;
  resolved?: string;
  integrity?: string;
  link?: boolean;
  dev?: boolean;
  optional?: boolean;
  devOptional?: boolean;
  peer?: boolean;
  hasInstallScript?: boolean;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
}

export interface GraphNode {
  key: string;
  name: string;
  version: string;
  resolved?: string;
  integrity?: string;
  source: 'registry' | 'git' | 'tarball' | 'file' | 'link';
  dev: boolean;
  optional: boolean;
  peer: boolean;
  hasInstallScript: boolean;
}

export interface Graph {
  root: { name?: string; version?: string };
  lockfileVersion: number;
  nodes: GraphNode[];
  edges: { from: string; to: string; type: 'prod' | 'dev' | 'optional' | 'peer' }[];
}

function sourceOf(key: string, entry: LockEntry): GraphNode['source'] {
  if (entry.link) return 'link';
  const resolved = entry.resolved ?? '';
  if (/^git(\+|:)|^github:/.test(resolved)) return 'git';
  if (resolved.startsWith('file:') || !key.includes('node_modules/')) return 'file';
  if (/^https?:/.test(resolved) && !entry.integrity) return 'tarball';
  return 'registry';
}

/** Finds the node a dependency of `from` resolves to, the way Node's module lookup walks up. */
function resolveDep(packages: Record<string, LockEntry>, from: string, dep: string): string | undefined {
  let base = from;
  for (;;) {
    const candidate = base ? `${base}/node_modules/${dep}` : `node_modules/${dep}`;
    if (packages[candidate]) return candidate;
    if (!base) return undefined;
    const cut = base.lastIndexOf('/node_modules/');
    base = cut === -1 ? '' : base.slice(0, cut);
  }
}

export function lockfileToGraph(lock: {
  lockfileVersion?: number;
  packages?: Record<string, LockEntry>;
}): Graph {
  const packages = lock.packages ?? {};
  const root = packages[''] ?? {};
  const nodes: GraphNode[] = [];
  const edges: Graph['edges'] = [];
  for (const [key, entry] of Object.entries(packages)) {
    if (key === '') continue;
    const at = key.lastIndexOf('node_modules/');
    const name =
      entry.name ??
      (at === -1 ? key.slice(key.lastIndexOf('/') + 1) : key.slice(at + 'node_modules/'.length));
    nodes.push({
      key,
      name,
      version: entry.version ?? (entry.link ? '0.0.0-link' : '0.0.0'),
      ...(entry.resolved ? { resolved: entry.resolved } : {}),
      ...(entry.integrity ? { integrity: entry.integrity } : {}),
      source: sourceOf(key, entry),
      dev: entry.dev === true || entry.devOptional === true,
      optional: entry.optional === true,
      peer: entry.peer === true,
      hasInstallScript: entry.hasInstallScript === true,
    });
  }
  const seen = new Set<string>();
  const addEdges = (
    from: string,
    deps: Record<string, string> | undefined,
    type: Graph['edges'][number]['type'],
  ): void => {
    for (const dep of Object.keys(deps ?? {})) {
      const to = resolveDep(packages, from, dep);
      const id = `${from}\u0000${to}`;
      if (to && !seen.has(id)) {
        seen.add(id);
        edges.push({ from, to, type });
      }
    }
  };
  for (const [key, entry] of Object.entries(packages)) {
    // Link nodes depend on their target folder.
    if (entry.link && entry.resolved && packages[entry.resolved]) {
      edges.push({ from: key, to: entry.resolved, type: 'prod' });
      continue;
    }
    addEdges(key, entry.dependencies, 'prod');
    addEdges(key, entry.optionalDependencies, 'optional');
    addEdges(key, entry.peerDependencies, 'peer');
    if (key === '' || !key.includes('node_modules/')) addEdges(key, entry.devDependencies, 'dev');
  }
  return {
    root: { name: root.name, version: root.version },
    lockfileVersion: lock.lockfileVersion ?? 3,
    nodes,
    edges,
  };
}
