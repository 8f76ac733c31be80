import { countStates, findBlocked, formatPackageVersion, packageFailure } from '@secure-registry/shared';
import type {
  BlockedBy,
  DependencyGraph,
  DependencyNode,
  PackageState,
  ScanCounts,
  ScanEvent,
  ScanPackage,
  ScanResult,
  ScanSummary,
} from '@secure-registry/shared';
import type { ScanPackageRecord, ScanRecord } from '../storage/store.js';

/** States in which a package still waits for a decision. */
export const OPEN_STATES: ReadonlySet<PackageState> = new Set(['pending', 'analyzing']);

export function isSettled(packages: readonly Pick<ScanPackageRecord, 'state'>[]): boolean {
  return packages.every((pkg) => !OPEN_STATES.has(pkg.state));
}

export function toScanPackage(record: ScanPackageRecord): ScanPackage {
  const failure = packageFailure(record);
  return {
    key: record.key,
    name: record.name,
    version: record.version,
    ...(record.integrity !== undefined ? { integrity: record.integrity } : {}),
    source: record.source,
    dev: record.dev,
    state: record.state,
    ...(record.reason !== undefined ? { reason: record.reason } : {}),
    findings: record.findings,
    ...(record.blockedBy !== undefined ? { blockedBy: record.blockedBy } : {}),
    ...(failure ? { failure } : {}),
  };
}

export function toScanSummary(
  scan: ScanRecord,
  packages: readonly Pick<ScanPackageRecord, 'state'>[],
): ScanSummary {
  return {
    id: scan.id,
    ...(scan.label !== undefined ? { label: scan.label } : {}),
    status: scan.status,
    createdAt: scan.createdAt,
    ...(scan.completedAt !== undefined ? { completedAt: scan.completedAt } : {}),
    counts: countStates(packages),
  };
}

export function toScanResult(scan: ScanRecord, packages: readonly ScanPackageRecord[]): ScanResult {
  return { ...toScanSummary(scan, packages), packages: packages.map(toScanPackage) };
}

export interface BlockedUpdate {
  key: string;
  blockedBy: BlockedBy;
  reason: string;
}

/** What blocking needs of a scan's (immutable) graph: each node's dependents and its name. */
export interface GraphIndex {
  parents: ReadonlyMap<string, readonly string[]>;
  nodes: ReadonlyMap<string, Pick<DependencyNode, 'name' | 'version'>>;
}

export function indexGraph(graph: Pick<DependencyGraph, 'edges' | 'nodes'>): GraphIndex {
  const parents = new Map<string, string[]>();
  for (const edge of graph.edges) {
    if (edge.from === '') continue;
    const list = parents.get(edge.to);
    if (list) list.push(edge.from);
    else parents.set(edge.to, [edge.from]);
  }
  const nodes = new Map(graph.nodes.map((node) => [node.key, { name: node.name, version: node.version }]));
  return { parents, nodes };
}

function blockedUpdate(
  nodes: GraphIndex['nodes'],
  key: string,
  cause: { rejected: string; path: readonly string[] },
): BlockedUpdate {
  const label = (k: string): string => {
    const node = nodes.get(k);
    return node ? formatPackageVersion(node.name, node.version) : k;
  };
  const culprit = nodes.get(cause.rejected);
  const path = cause.path.map(label);
  return {
    key,
    blockedBy: { name: culprit?.name ?? cause.rejected, version: culprit?.version ?? '', path },
    reason: `depends on rejected ${label(cause.rejected)} (${path.join(' > ')})`,
  };
}

/**
 * Packages that must become `blocked`: dependents (transitively) of rejected packages that are not
 * rejected themselves and not already blocked. Pure; walks the whole graph (scan creation).
 */
export function planBlocked(
  graph: Pick<DependencyGraph, 'edges' | 'nodes'>,
  packages: ReadonlyMap<string, Pick<ScanPackageRecord, 'state'>>,
): BlockedUpdate[] {
  const rejected = new Set<string>();
  for (const [key, pkg] of packages) if (pkg.state === 'rejected') rejected.add(key);
  if (rejected.size === 0) return [];
  const { nodes } = indexGraph({ edges: [], nodes: graph.nodes });
  const updates: BlockedUpdate[] = [];
  for (const [key, cause] of findBlocked(graph, rejected)) {
    const current = packages.get(key);
    if (!current || current.state === 'blocked' || current.state === 'rejected') continue;
    updates.push(blockedUpdate(nodes, key, cause));
  }
  return updates;
}

/**
 * The packages a change makes `blocked`: dependents (transitively) of the newly rejected ones,
 * walking up from them only. A dependent already blocked or rejected ends the walk there: its own
 * dependents were blocked when it was (every change keeps that true), so the cost is that of the
 * packages newly blocked. `read` gives the current states (after the rest of the change).
 */
export async function propagateBlocked(
  index: GraphIndex,
  newlyRejected: readonly string[],
  read: (keys: readonly string[]) => Promise<Pick<ScanPackageRecord, 'key' | 'state'>[]>,
): Promise<BlockedUpdate[]> {
  const seen = new Set(newlyRejected);
  const updates: BlockedUpdate[] = [];
  let frontier = newlyRejected.map((key) => ({ key, rejected: key, path: [key] }));
  while (frontier.length > 0) {
    const found: { key: string; rejected: string; path: string[] }[] = [];
    for (const item of frontier) {
      for (const parent of index.parents.get(item.key) ?? []) {
        if (seen.has(parent)) continue;
        seen.add(parent);
        found.push({ key: parent, rejected: item.rejected, path: [parent, ...item.path] });
      }
    }
    const states = new Map((await read(found.map((item) => item.key))).map((pkg) => [pkg.key, pkg.state]));
    frontier = found.filter((item) => {
      const state = states.get(item.key);
      return state !== undefined && state !== 'blocked' && state !== 'rejected';
    });
    for (const item of frontier) updates.push(blockedUpdate(index.nodes, item.key, item));
  }
  return updates;
}

/** The `package.state` event of a changed package. */
export function packageStateEvent(pkg: ScanPackageRecord, counts: ScanCounts): ScanEvent {
  return {
    type: 'package.state',
    key: pkg.key,
    name: pkg.name,
    version: pkg.version,
    state: pkg.state,
    ...(pkg.reason !== undefined ? { reason: pkg.reason } : {}),
    findings: pkg.findings,
    ...(pkg.blockedBy !== undefined ? { blockedBy: pkg.blockedBy } : {}),
    counts,
  };
}

/** True when the counts leave no package waiting for a decision. */
export function isSettledCounts(counts: ScanCounts): boolean {
  return counts.pending === 0 && counts.analyzing === 0;
}
