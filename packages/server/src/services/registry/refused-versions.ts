/**
 * The upstream versions the vetted registry lists without serving them: each with its refusal, so
 * that the client's own output says why (see `RefusedVersion`). Pure.
 */
import * as semver from 'semver';
import type { ArtifactRecord } from '../../storage/store.js';
import type { RefusedVersion } from './packument.js';
import { describeRefusal, refusalLine, refusalSlug } from './reasons.js';
import { isRecord } from './records.js';
import { refusedTarballUrl } from './registry-path.js';
import { groupByVersion } from './served-versions.js';
import type { ServedVersion } from './served-versions.js';

export function selectRefusedVersions(input: {
  name: string;
  upstream: Record<string, unknown>;
  records: readonly ArtifactRecord[];
  served: readonly ServedVersion[];
  baseUrl: string;
}): RefusedVersion[] {
  const versions = isRecord(input.upstream.versions) ? input.upstream.versions : {};
  const time = isRecord(input.upstream.time) ? input.upstream.time : {};
  const served = new Set(input.served.map((entry) => entry.version));
  const byVersion = groupByVersion(input.records);
  const refused: RefusedVersion[] = [];
  for (const [version, manifest] of Object.entries(versions)) {
    if (served.has(version) || semver.valid(version) !== version || !isRecord(manifest)) continue;
    const refusal = describeRefusal({
      name: input.name,
      version,
      records: byVersion.get(version),
      baseUrl: input.baseUrl,
    });
    const published = Object.hasOwn(time, version) ? time[version] : undefined;
    refused.push({
      version,
      deprecated: refusalLine(refusal),
      tarball: refusedTarballUrl(input.baseUrl, input.name, version, refusalSlug(refusal)),
      time: typeof published === 'string' ? published : undefined,
    });
  }
  return refused;
}
