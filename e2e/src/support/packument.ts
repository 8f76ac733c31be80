import * as semver from 'semver';
import { ABBREVIATED_VERSION_FIELDS, tarballFileName } from '@secure-registry/shared';
import type { PackedVersion } from './fixture-packages.js';

/** Everything the fixture registry serves for one package name. */
export interface RegistryEntry {
  name: string;
  full: Record<string, unknown>;
  abbreviated: Record<string, unknown>;
  /** Version manifests as they appear in the full packument. */
  versions: Map<string, Record<string, unknown>>;
  /** Tarball file name (`<bare>-<version>.tgz`) to the packed version. */
  tarballs: Map<string, PackedVersion>;
}

const DEFAULT_MAINTAINER = { name: 'fixture-maintainer', email: 'maintainer@fixtures.example' };
const DAY_MS = 86_400_000;
/** Versions without an explicit date are published 30 days apart from this date, in semver order. */
const DEFAULT_EPOCH = Date.UTC(2022, 0, 1);

/** The publication time of every version of one package, as ISO strings. */
function publicationTimes(sorted: readonly PackedVersion[], now: number): Map<string, string> {
  const times = new Map<string, string>();
  sorted.forEach((v, index) => {
    let at = DEFAULT_EPOCH + index * 30 * DAY_MS;
    if (v.meta.publishedAt) at = Date.parse(v.meta.publishedAt);
    else if (v.meta.publishedHoursAgo !== undefined) at = now - v.meta.publishedHoursAgo * 3_600_000;
    if (Number.isNaN(at)) throw new Error(`fixture ${v.source}: invalid publishedAt`);
    times.set(v.version, new Date(at).toISOString());
  });
  return times;
}

function distTags(versions: readonly string[]): Record<string, string> {
  const stable = versions.filter((v) => semver.prerelease(v) === null);
  const latest = semver.rsort([...(stable.length > 0 ? stable : versions)])[0];
  return latest ? { latest } : {};
}

/** Builds the full and abbreviated packuments of one package from its packed versions. */
export function buildEntry(options: {
  name: string;
  versions: readonly PackedVersion[];
  baseUrl: string;
  now: number;
}): RegistryEntry {
  const { name, baseUrl } = options;
  const sorted = [...options.versions].sort((a, b) => semver.compare(a.version, b.version));
  const times = publicationTimes(sorted, options.now);
  const fullVersions: Record<string, Record<string, unknown>> = {};
  const abbreviatedVersions: Record<string, Record<string, unknown>> = {};
  const versionMap = new Map<string, Record<string, unknown>>();
  const tarballs = new Map<string, PackedVersion>();
  for (const v of sorted) {
    const file = tarballFileName(name, v.version);
    const maintainers = v.meta.maintainers ?? [DEFAULT_MAINTAINER];
    const dist: Record<string, unknown> = {
      integrity: v.integrity,
      shasum: v.shasum,
      tarball: `${baseUrl}/${name}/-/${file}`,
      fileCount: v.fileCount,
      unpackedSize: v.unpackedSize,
    };
    if (v.meta.provenance) {
      dist.attestations = {
        url: `${baseUrl}/-/npm/v1/attestations/${name}@${v.version}`,
        provenance: { predicateType: 'https://slsa.dev/provenance/v1' },
      };
    }
    const manifest: Record<string, unknown> = {
      ...v.manifest,
      _id: `${name}@${v.version}`,
      _npmUser: v.meta.npmUser ?? maintainers[0] ?? DEFAULT_MAINTAINER,
      maintainers,
      _hasShrinkwrap: false,
      directories: v.manifest.directories ?? {},
      dist,
    };
    if (v.hasInstallScript) manifest.hasInstallScript = true;
    if (v.meta.deprecated) manifest.deprecated = v.meta.deprecated;
    fullVersions[v.version] = manifest;
    versionMap.set(v.version, manifest);
    const short: Record<string, unknown> = {};
    for (const field of ABBREVIATED_VERSION_FIELDS)
      if (manifest[field] !== undefined) short[field] = manifest[field];
    abbreviatedVersions[v.version] = short;
    tarballs.set(file, v);
  }
  const isoTimes = [...times.values()].sort();
  const created = isoTimes[0] ?? new Date(DEFAULT_EPOCH).toISOString();
  const modified = isoTimes[isoTimes.length - 1] ?? created;
  const tags = distTags(sorted.map((v) => v.version));
  const latest = tags.latest ? sorted.find((v) => v.version === tags.latest) : undefined;
  const full: Record<string, unknown> = {
    _id: name,
    name,
    description: latest?.manifest.description ?? '',
    'dist-tags': tags,
    versions: fullVersions,
    time: { created, modified, ...Object.fromEntries(times) },
    maintainers: latest?.meta.maintainers ?? [DEFAULT_MAINTAINER],
    license: latest?.manifest.license,
    readme: '',
  };
  const abbreviated = { name, modified, 'dist-tags': tags, versions: abbreviatedVersions };
  return { name, full, abbreviated, versions: versionMap, tarballs };
}

/** Groups packed versions by name and builds every package's entry; duplicates are an error. */
export function buildEntries(
  packed: readonly PackedVersion[],
  baseUrl: string,
  now: number,
): Map<string, RegistryEntry> {
  const byName = new Map<string, PackedVersion[]>();
  for (const v of packed) {
    const list = byName.get(v.name) ?? [];
    const clash = list.find((other) => other.version === v.version);
    if (clash) throw new Error(`fixture ${v.name}@${v.version} defined twice (${clash.source}, ${v.source})`);
    list.push(v);
    byName.set(v.name, list);
  }
  const entries = new Map<string, RegistryEntry>();
  for (const [name, versions] of byName) entries.set(name, buildEntry({ name, versions, baseUrl, now }));
  return entries;
}
