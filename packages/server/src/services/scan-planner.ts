import {
  INFRASTRUCTURE_RULES,
  UNVETTABLE_REASONS,
  UPSTREAM_UNAVAILABLE_RULE,
  formatIntegrity,
  parseIntegrity,
  strongestHash,
} from '@secure-registry/shared';
import type { DependencyNode, Finding } from '@secure-registry/shared';
import type { ArtifactKey, ArtifactRecord, ScanPackageRecord, Store } from '../storage/store.js';
import { isUpstreamUnavailable } from '../upstream/registry-client.js';
import type { RegistryClient } from '../upstream/registry-client.js';
import { upstreamIntegrity } from '../pipeline/integrity.js';

export type PlannedPackage = Omit<ScanPackageRecord, 'scanId'>;

export interface ScanPlan {
  packages: PlannedPackage[];
  /** Artifacts that need a job (one entry per distinct artifact). */
  toEnqueue: (ArtifactKey & { resolved: string | undefined })[];
}

/** The sandbox could not run at all for this artifact (tools missing, machine not capable). */
function sandboxWasUnavailable(reports: ArtifactRecord['reports'] | undefined): boolean {
  const sandbox = reports?.sandbox as { unavailable?: unknown } | undefined;
  return Array.isArray(sandbox?.unavailable) && sandbox.unavailable.length > 0;
}

/**
 * True for a `review` that only records that the artifact could not be analysed — a failed
 * analysis (an upstream outage, a crash) or a sandbox that could not run: not a decision about
 * the package. A later scan, the server's start-up and `reevaluate` queue it again (13.8).
 */
export function isFailedAnalysis(
  artifact: Pick<ArtifactRecord, 'verdict' | 'findings'> & { reports?: ArtifactRecord['reports'] },
): boolean {
  return (
    artifact.verdict === 'review' &&
    (artifact.findings.some(
      (finding) => finding.rule === 'analysis-failed' || INFRASTRUCTURE_RULES.includes(finding.rule),
    ) ||
      sandboxWasUnavailable(artifact.reports))
  );
}

/**
 * The artifacts held only because they could not be analysed (see `isFailedAnalysis`). Without
 * `interrupted`, not those whose worker kept stopping mid-analysis: a package that kills the
 * server would otherwise do it again at every start (`reevaluate` still queues them).
 */
export async function listUnanalysed(
  store: Pick<Store, 'listArtifactsByVerdict'>,
  options: { interrupted: boolean },
): Promise<ArtifactRecord[]> {
  return (await store.listArtifactsByVerdict('review', 1_000_000)).filter(
    (artifact) =>
      isFailedAnalysis(artifact) &&
      (options.interrupted ||
        (artifact.reports.failure as { kind?: unknown } | undefined)?.kind !== 'interrupted'),
  );
}

export function isDecided(artifact: ArtifactRecord | undefined): artifact is ArtifactRecord {
  return artifact !== undefined && artifact.verdict !== 'pending' && !isFailedAnalysis(artifact);
}

export function artifactId(key: ArtifactKey): string {
  return `${key.name}@${key.version}#${key.integrity}`;
}

/**
 * Decides the initial state of every node of a submitted graph: non-registry sources are
 * `unvettable`; registry nodes reuse a decided artifact verdict or wait for a job (`pending`).
 * Nodes without a lockfile integrity take upstream's `dist.integrity`.
 */
export async function planScan(
  nodes: readonly DependencyNode[],
  deps: { store: Store; registry: RegistryClient },
): Promise<ScanPlan> {
  const upstream = await resolveMissingIntegrity(nodes, deps.registry);
  const keys = new Map<string, ArtifactKey>();
  for (const node of nodes) {
    if (node.source !== 'registry') continue;
    const integrity = node.integrity ?? upstream.get(`${node.name}@${node.version}`);
    const strongest = typeof integrity === 'string' ? strongestHash(integrity) : undefined;
    if (!strongest) continue;
    const key = { name: node.name, version: node.version, integrity: formatIntegrity(strongest) };
    keys.set(artifactId(key), key);
  }
  // One lookup for the whole graph (chunked), not a query per node.
  const artifacts = await deps.store.getArtifacts([...keys.values()]);
  const toEnqueue = new Map<string, ArtifactKey & { resolved: string | undefined }>();
  const packages: PlannedPackage[] = [];
  for (const node of nodes) {
    const base = {
      key: node.key,
      name: node.name,
      version: node.version,
      source: node.source,
      dev: node.dev,
    };
    if (node.source !== 'registry') {
      packages.push({
        ...base,
        integrity: node.integrity,
        state: 'unvettable',
        reason: UNVETTABLE_REASONS[node.source],
        findings: [],
        blockedBy: undefined,
      });
      continue;
    }
    const integrity = node.integrity ?? upstream.get(`${node.name}@${node.version}`);
    const strongest = typeof integrity === 'string' ? strongestHash(integrity) : undefined;
    if (!strongest) {
      const finding = integrityFinding(node, integrity);
      packages.push({
        ...base,
        integrity: node.integrity,
        state: 'review',
        reason: finding.message,
        findings: [finding],
        blockedBy: undefined,
      });
      continue;
    }
    const key: ArtifactKey = {
      name: node.name,
      version: node.version,
      integrity: formatIntegrity(strongest),
    };
    const id = artifactId(key);
    const artifact = artifacts.get(id);
    if (isDecided(artifact)) {
      packages.push({
        ...base,
        integrity: key.integrity,
        state: artifact.verdict as Exclude<ArtifactRecord['verdict'], 'pending'>,
        reason: artifact.reason,
        findings: artifact.findings,
        blockedBy: undefined,
      });
    } else {
      if (!toEnqueue.has(id)) toEnqueue.set(id, { ...key, resolved: node.resolved });
      packages.push({
        ...base,
        integrity: key.integrity,
        state: 'pending',
        reason: undefined,
        findings: [],
        blockedBy: undefined,
      });
    }
  }
  return { packages, toEnqueue: [...toEnqueue.values()] };
}

function integrityFinding(node: DependencyNode, integrity: string | Error | undefined): Finding {
  if (node.integrity !== undefined && parseIntegrity(node.integrity).length === 0) {
    return {
      rule: 'integrity-invalid',
      severity: 'high',
      message: 'the lockfile integrity of this package is not a valid SRI hash',
      evidence: [{ kind: 'metadata', detail: 'lockfile integrity', excerpt: node.integrity.slice(0, 500) }],
    };
  }
  if (isUpstreamUnavailable(integrity)) {
    // An outage, not a fact about the package (13.13): the next scan asks again.
    return {
      rule: UPSTREAM_UNAVAILABLE_RULE,
      severity: 'high',
      message: `could not fetch from upstream: ${integrity.message}`.slice(0, 2000),
      evidence: [
        { kind: 'metadata', detail: 'upstream dist.integrity', excerpt: integrity.message.slice(0, 2000) },
      ],
    };
  }
  const detail =
    integrity instanceof Error ? integrity.message : 'upstream gives no integrity for this version';
  return {
    rule: 'integrity-unavailable',
    severity: 'high',
    message:
      'the lockfile has no integrity and upstream could not provide one: the artifact cannot be identified',
    evidence: [{ kind: 'metadata', detail: 'upstream dist.integrity', excerpt: detail.slice(0, 2000) }],
  };
}

/** Upstream integrities (or the error) for registry nodes whose lockfile entry has none. */
async function resolveMissingIntegrity(
  nodes: readonly DependencyNode[],
  registry: RegistryClient,
): Promise<Map<string, string | Error | undefined>> {
  const wanted = new Map<string, DependencyNode>();
  for (const node of nodes) {
    if (node.source === 'registry' && node.integrity === undefined)
      wanted.set(`${node.name}@${node.version}`, node);
  }
  const result = new Map<string, string | Error | undefined>();
  const queue = [...wanted.entries()];
  const worker = async (): Promise<void> => {
    for (let item = queue.shift(); item; item = queue.shift()) {
      const [id, node] = item;
      try {
        const packument = await registry.getPackument(node.name);
        result.set(id, upstreamIntegrity(packument.versions?.[node.version]?.dist));
      } catch (error) {
        result.set(id, error instanceof Error ? error : new Error(String(error)));
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(8, queue.length) }, worker));
  return result;
}
