import { countStates, findBlocked, formatPackageVersion } from '@secure-registry/shared';
import type {
  BlockedBy,
  DependencyGraph,
  PackageState,
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

/**
 * Packages that must become `blocked`: dependents (transitively) of rejected packages that are not
 * rejected themselves and not already blocked. Pure.
 */
export function planBlocked(
  graph: Pick<DependencyGraph, 'edges' | 'nodes'>,
  packages: ReadonlyMap<string, Pick<ScanPackageRecord, 'state'>>,
): BlockedUpdate[] {
  const rejected = new Set<string>();
  for (const [key, pkg] of packages) if (pkg.state === 'rejected') rejected.add(key);
  if (rejected.size === 0) return [];
  const nodes = new Map(graph.nodes.map((node) => [node.key, node]));
  const label = (key: string): string => {
    const node = nodes.get(key);
    return node ? formatPackageVersion(node.name, node.version) : key;
  };
  const updates: BlockedUpdate[] = [];
  for (const [key, cause] of findBlocked(graph, rejected)) {
    const current = packages.get(key);
    if (!current || current.state === 'blocked' || current.state === 'rejected') continue;
    const culprit = nodes.get(cause.rejected);
    const path = cause.path.map(label);
    updates.push({
      key,
      blockedBy: { name: culprit?.name ?? cause.rejected, version: culprit?.version ?? '', path },
      reason: `depends on rejected ${label(cause.rejected)} (${path.join(' > ')})`,
    });
  }
  return updates;
}
