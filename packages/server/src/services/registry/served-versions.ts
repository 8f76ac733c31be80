/**
 * Which versions of a package the vetted registry serves: a version is served only when an
 * artifact of that exact name, version and upstream integrity is approved and stored. Pure.
 */
import * as semver from 'semver';
import { integritiesMatch, parseIntegrity } from '@secure-registry/shared';
import type { ArtifactRecord } from '../../storage/store.js';
import { isRecord } from './records.js';

/** One version the registry serves, with the manifest to publish for it. */
export interface ServedVersion {
  version: string;
  /** The version manifest (upstream's, or the stored one when upstream is unreachable). */
  manifest: Record<string, unknown>;
  artifact: ArtifactRecord;
  /** Publish time, when known. */
  time: string | undefined;
}

/** Upstream's integrity of a version: `dist.integrity`, else `dist.shasum` (hex sha1) as SRI. */
export function upstreamIntegrityOf(manifest: unknown): string | undefined {
  if (!isRecord(manifest) || !isRecord(manifest.dist)) return undefined;
  const { integrity, shasum } = manifest.dist;
  if (typeof integrity === 'string' && parseIntegrity(integrity).length > 0) return integrity;
  if (typeof shasum === 'string' && /^[0-9a-f]{40}$/i.test(shasum)) {
    return `sha1-${Buffer.from(shasum, 'hex').toString('base64')}`;
  }
  return undefined;
}

/** True for a record that may be served: approved and its bytes stored. */
export function isServable(record: ArtifactRecord): boolean {
  return record.verdict === 'approved' && typeof record.storagePath === 'string' && record.storagePath !== '';
}

/** Groups records by version (in a Map, so `__proto__` and friends are plain keys). */
export function groupByVersion(records: readonly ArtifactRecord[]): Map<string, ArtifactRecord[]> {
  const byVersion = new Map<string, ArtifactRecord[]>();
  for (const record of records) {
    const list = byVersion.get(record.version);
    if (list) list.push(record);
    else byVersion.set(record.version, [record]);
  }
  return byVersion;
}

/**
 * The approved artifact of `version` whose integrity equals upstream's current `dist.integrity`,
 * or undefined. An approved artifact with another integrity (the upstream bytes changed) is not it.
 */
export function approvedArtifactFor(
  records: readonly ArtifactRecord[] | undefined,
  upstreamIntegrity: string | undefined,
): ArtifactRecord | undefined {
  if (!records || upstreamIntegrity === undefined) return undefined;
  return records.find(
    (record) => isServable(record) && integritiesMatch(record.integrity, upstreamIntegrity),
  );
}

/** The fields npm acts on that a version's served manifest takes from its tarball's package.json. */
const FROM_TARBALL = ['scripts', 'dependencies', 'optionalDependencies', 'peerDependencies', 'bin'] as const;
const INSTALL_EVENTS = ['preinstall', 'install', 'postinstall'];

/**
 * The upstream manifest with the scripts, dependencies and bin of the artifact's own package.json
 * (recorded by the static stage), so that what npm resolves from the packument is what it runs
 * from the tarball (manifest confusion). Unchanged when the static stage recorded nothing.
 */
export function tarballConsistent(
  manifest: Record<string, unknown>,
  artifact: ArtifactRecord,
): Record<string, unknown> {
  const staticReport = isRecord(artifact.reports) ? artifact.reports.static : undefined;
  const summary = isRecord(staticReport) ? staticReport.manifest : undefined;
  const declared = isRecord(summary) ? summary.declared : undefined;
  if (!isRecord(summary) || !isRecord(declared)) return manifest;
  const out: Record<string, unknown> = { ...manifest };
  for (const field of FROM_TARBALL) {
    if (declared[field] !== undefined) out[field] = declared[field];
    else delete out[field];
  }
  const scripts = isRecord(declared.scripts) ? declared.scripts : {};
  const gyp = summary.hasBindingGyp === true && summary.gypfileDisabled !== true;
  if (INSTALL_EVENTS.some((event) => typeof scripts[event] === 'string') || gyp) out.hasInstallScript = true;
  else delete out.hasInstallScript;
  return out;
}

/** Served versions when the upstream packument is available. */
export function selectServedVersions(input: {
  upstream: Record<string, unknown>;
  records: readonly ArtifactRecord[];
}): ServedVersion[] {
  const versions = isRecord(input.upstream.versions) ? input.upstream.versions : {};
  const time = isRecord(input.upstream.time) ? input.upstream.time : {};
  const byVersion = groupByVersion(input.records);
  const served: ServedVersion[] = [];
  for (const [version, manifest] of Object.entries(versions)) {
    if (semver.valid(version) !== version || !isRecord(manifest)) continue;
    if (manifest.version !== undefined && manifest.version !== version) continue;
    const artifact = approvedArtifactFor(byVersion.get(version), upstreamIntegrityOf(manifest));
    if (!artifact) continue;
    const published = Object.hasOwn(time, version) ? time[version] : undefined;
    served.push({
      version,
      manifest: tarballConsistent(manifest, artifact),
      artifact,
      time: typeof published === 'string' ? published : undefined,
    });
  }
  return served;
}

/** What a stored artifact remembers of its upstream manifest (see `storedManifestOf`). */
export interface StoredManifest {
  manifest: Record<string, unknown> | undefined;
  time: string | undefined;
}

/**
 * The upstream manifest recorded with an artifact: `reports.upstream = { manifest, time }`, written
 * by the pipeline when it fetched the artifact. Undefined fields when absent.
 */
export function storedManifestOf(record: ArtifactRecord): StoredManifest {
  const upstream = isRecord(record.reports) ? record.reports.upstream : undefined;
  if (!isRecord(upstream)) return { manifest: undefined, time: undefined };
  return {
    manifest: isRecord(upstream.manifest) ? upstream.manifest : undefined,
    time: typeof upstream.time === 'string' ? upstream.time : undefined,
  };
}

/**
 * Approved artifacts to serve when the upstream cannot be reached: one per version. A version
 * with two approved artifacts of different integrity is ambiguous offline and is left out.
 */
export function selectOfflineArtifacts(records: readonly ArtifactRecord[]): ArtifactRecord[] {
  const chosen: ArtifactRecord[] = [];
  for (const [version, list] of groupByVersion(records)) {
    if (semver.valid(version) !== version) continue;
    const approved = list.filter(isServable);
    const first = approved[0];
    if (!first) continue;
    if (approved.some((record) => !integritiesMatch(record.integrity, first.integrity))) continue;
    chosen.push(first);
  }
  return chosen;
}
