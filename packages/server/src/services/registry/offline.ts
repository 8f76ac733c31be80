/**
 * Version manifests for serving approved artifacts while the upstream is unreachable. The manifest
 * comes from what the pipeline recorded (`reports.upstream.manifest`) or, failing that, from the
 * stored tarball's own `package.json`. Pure.
 */
import { copyRecord, createRecord, isRecord } from './records.js';
import type { JsonRecord } from './records.js';
import { storedManifestOf, tarballConsistent } from './served-versions.js';
import type { ServedVersion } from './served-versions.js';
import type { ArtifactRecord } from '../../storage/store.js';

/**
 * A served version from a stored artifact and the manifest found for it. Undefined when the
 * manifest names another package or version (never serve a manifest that disagrees with the
 * artifact). `dist.integrity` is always the approved artifact's integrity.
 */
export function offlineServedVersion(input: {
  artifact: ArtifactRecord;
  /** `reports.upstream.manifest` when recorded, else the tarball's package.json. */
  manifest: JsonRecord | undefined;
}): ServedVersion | undefined {
  const { artifact } = input;
  const source = input.manifest;
  if (!source) return undefined;
  if (source.name !== artifact.name || source.version !== artifact.version) return undefined;
  const fromUpstream = storedManifestOf(artifact).manifest === source;
  const manifest = createRecord();
  for (const [key, value] of Object.entries(source)) {
    // A package.json may carry `_id`, `_resolved`, … written by old clients: not registry data.
    if (!fromUpstream && key.startsWith('_') && key !== '_hasShrinkwrap') continue;
    manifest[key] = value;
  }
  const dist = fromUpstream && isRecord(source.dist) ? copyRecord(source.dist) : createRecord();
  dist.integrity = artifact.integrity;
  manifest.dist = dist;
  return {
    version: artifact.version,
    manifest: fromUpstream ? tarballConsistent(manifest, artifact) : manifest,
    artifact,
    time: storedManifestOf(artifact).time ?? artifact.createdAt,
  };
}
