import * as semver from 'semver';
import { createRecord, isRecord } from './records.js';

/**
 * Recomputes dist-tags so that every tag points at a served version:
 * - `latest` is the highest served version not newer than upstream's `latest` (a prerelease only
 *   when upstream's `latest` is itself a prerelease); with no usable upstream `latest`, the highest
 *   served release (else the highest served version);
 * - any other tag is kept when its version is served and dropped otherwise.
 * Pure; the result has no prototype, so a tag named `__proto__` stays data.
 */
export function recomputeDistTags(upstreamTags: unknown, served: readonly string[]): Record<string, string> {
  const tags = createRecord<string>();
  const servedSet = new Set(served);
  const sorted = [...served].sort(semver.rcompare);
  const upstream = isRecord(upstreamTags) ? upstreamTags : {};
  const upstreamLatest = typeof upstream.latest === 'string' ? semver.valid(upstream.latest) : null;

  let latest: string | undefined;
  if (upstreamLatest) {
    const allowPrerelease = semver.prerelease(upstreamLatest) !== null;
    latest = sorted.find(
      (version) =>
        semver.lte(version, upstreamLatest) && (allowPrerelease || semver.prerelease(version) === null),
    );
  } else {
    latest = sorted.find((version) => semver.prerelease(version) === null) ?? sorted[0];
  }
  if (latest !== undefined) tags.latest = latest;

  for (const [tag, version] of Object.entries(upstream)) {
    if (tag === 'latest') continue;
    if (typeof version === 'string' && servedSet.has(version)) tags[tag] = version;
  }
  return tags;
}
