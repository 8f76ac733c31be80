/**
 * Shaping of the packuments the vetted registry serves, from upstream's packument (or the stored
 * manifests) and the served versions. Pure: data in, data out.
 */
import { ABBREVIATED_VERSION_FIELDS } from '@secure-registry/shared';
import { recomputeDistTags } from './dist-tags.js';
import { copyRecord, createRecord, isRecord } from './records.js';
import type { JsonRecord } from './records.js';
import { tarballUrl } from './registry-path.js';
import type { ServedVersion } from './served-versions.js';

export { ABBREVIATED_MEDIA_TYPE, ABBREVIATED_VERSION_FIELDS } from '@secure-registry/shared';

/** Top-level fields that are recomputed, or never passed on. */
const RECOMPUTED_TOP_LEVEL = new Set(['versions', 'dist-tags', 'time', '_attachments', '_rev', 'modified']);

const INSTALL_SCRIPTS = ['preinstall', 'install', 'postinstall'];

/** True when installing the version runs a lifecycle script (explicit, or an implicit gyp build). */
export function hasInstallScript(manifest: JsonRecord): boolean {
  if (manifest.hasInstallScript === true) return true;
  if (manifest.gypfile === true) return true;
  const scripts = manifest.scripts;
  return isRecord(scripts) && INSTALL_SCRIPTS.some((script) => typeof scripts[script] === 'string');
}

/** The version manifest with `dist.tarball` pointing at this registry. */
export function rewriteVersion(input: { name: string; manifest: JsonRecord; baseUrl: string }): JsonRecord {
  const copy = copyRecord(input.manifest);
  const version = String(copy.version ?? '');
  const dist = isRecord(copy.dist) ? copyRecord(copy.dist) : createRecord();
  dist.tarball = tarballUrl(input.baseUrl, input.name, version);
  copy.dist = dist;
  return copy;
}

/** The abbreviated form of a (rewritten) version manifest. */
export function abbreviateVersion(manifest: JsonRecord): JsonRecord {
  const out = createRecord();
  for (const field of ABBREVIATED_VERSION_FIELDS) {
    if (Object.hasOwn(manifest, field) && manifest[field] !== undefined) out[field] = manifest[field];
  }
  if (hasInstallScript(manifest)) out.hasInstallScript = true;
  return out;
}

/**
 * A version upstream publishes that is not served, listed so that clients say why: `deprecated`
 * carries the refusal (npm, pnpm and yarn pick a non-deprecated version when one satisfies the
 * range), and its tarball URL is refused with the same words. No integrity: nothing to install.
 */
export interface RefusedVersion {
  version: string;
  deprecated: string;
  tarball: string;
  time: string | undefined;
}

export interface ShapePackumentInput {
  name: string;
  /** Upstream's packument; only its top-level fields, dist-tags and time are read here. */
  upstream: JsonRecord | undefined;
  served: readonly ServedVersion[];
  /** Upstream versions that are refused; absent from `dist-tags`. */
  refused?: readonly RefusedVersion[];
  baseUrl: string;
  abbreviated: boolean;
}

/** The `modified` time of the served packument: upstream's, else the newest served version's. */
function modifiedTime(input: ShapePackumentInput): string | undefined {
  const upstreamTime = isRecord(input.upstream?.time) ? input.upstream.time : undefined;
  if (typeof upstreamTime?.modified === 'string') return upstreamTime.modified;
  let newest: string | undefined;
  for (const served of input.served) {
    if (served.time !== undefined && (newest === undefined || served.time > newest)) newest = served.time;
  }
  return newest;
}

/**
 * The packument to serve. Versions other than `served` are absent; dist-tags are recomputed;
 * `time` keeps `created`, `modified` and the served versions; tarballs point at `baseUrl`.
 */
export function shapePackument(input: ShapePackumentInput): JsonRecord {
  const ordered = [...input.served];
  const distTags = recomputeDistTags(
    input.upstream?.['dist-tags'],
    ordered.map((served) => served.version),
  );
  const versions = createRecord();
  for (const refused of input.refused ?? []) {
    const entry = createRecord();
    entry.name = input.name;
    entry.version = refused.version;
    entry.deprecated = refused.deprecated;
    entry.dist = { tarball: refused.tarball };
    versions[refused.version] = entry;
  }
  for (const served of ordered) {
    const rewritten = rewriteVersion({ name: input.name, manifest: served.manifest, baseUrl: input.baseUrl });
    versions[served.version] = input.abbreviated ? abbreviateVersion(rewritten) : rewritten;
  }
  const modified = modifiedTime(input);
  const out = createRecord();
  if (input.abbreviated) {
    out.name = input.name;
    if (modified !== undefined) out.modified = modified;
    out['dist-tags'] = distTags;
    out.versions = versions;
    return out;
  }
  if (input.upstream) {
    for (const [key, value] of Object.entries(input.upstream)) {
      if (!RECOMPUTED_TOP_LEVEL.has(key)) out[key] = value;
    }
  }
  out._id = input.name;
  out.name = input.name;
  out['dist-tags'] = distTags;
  out.versions = versions;
  const upstreamTime = isRecord(input.upstream?.time) ? input.upstream.time : {};
  const time = createRecord();
  if (typeof upstreamTime.created === 'string') time.created = upstreamTime.created;
  if (modified !== undefined) time.modified = modified;
  for (const listed of [...(input.refused ?? []), ...ordered]) {
    if (listed.time !== undefined) time[listed.version] = listed.time;
  }
  out.time = time;
  return out;
}
