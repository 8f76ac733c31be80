import type { PackageVerdictResponse } from '@secure-registry/shared';
import type { ArtifactRecord, Store } from '../storage/store.js';

/**
 * The verdict of a package version. Several artifacts may share a name and version (different
 * integrities); `integrity` picks one, else the most recently decided one wins.
 */
export async function getPackageVerdict(
  store: Store,
  query: { name: string; version: string; integrity?: string | undefined },
): Promise<PackageVerdictResponse | undefined> {
  const candidates = (await store.listArtifactsByName(query.name)).filter(
    (artifact) =>
      artifact.version === query.version &&
      (query.integrity === undefined || artifact.integrity === query.integrity),
  );
  const chosen = candidates.sort(compareArtifacts)[0];
  return chosen ? toPackageVerdict(chosen) : undefined;
}

function compareArtifacts(a: ArtifactRecord, b: ArtifactRecord): number {
  const decidedA = a.decidedAt ?? '';
  const decidedB = b.decidedAt ?? '';
  if (decidedA !== decidedB) return decidedA < decidedB ? 1 : -1;
  return a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : 0;
}

export function toPackageVerdict(artifact: ArtifactRecord): PackageVerdictResponse {
  return {
    name: artifact.name,
    version: artifact.version,
    integrity: artifact.integrity,
    verdict: artifact.verdict,
    ...(artifact.reason !== undefined ? { reason: artifact.reason } : {}),
    findings: artifact.findings,
    ...(artifact.decidedAt !== undefined ? { decidedAt: artifact.decidedAt } : {}),
    ...(artifact.ruleSetVersion !== undefined ? { ruleSetVersion: artifact.ruleSetVersion } : {}),
    reports: artifact.reports,
  };
}
