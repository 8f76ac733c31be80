import semver from 'semver';
import { installCommands, isRecord, npmScripts } from './manifest.js';
import type { LifecycleEvent, MetadataSignals } from './types.js';

/** Pure packument reading: previous version, release age, maintainers, provenance, install scripts. */

export interface VersionDoc {
  scripts?: Record<string, string>;
  gypfile?: boolean;
  hasInstallScript?: boolean;
  maintainers?: unknown;
  _npmUser?: unknown;
  dist?: { attestations?: unknown };
}

function versionsOf(packument: unknown): Record<string, VersionDoc> {
  if (!isRecord(packument) || !isRecord(packument.versions)) return {};
  const out = Object.create(null) as Record<string, VersionDoc>;
  for (const [version, doc] of Object.entries(packument.versions))
    if (isRecord(doc)) out[version] = doc as VersionDoc;
  return out;
}

export function versionDoc(packument: unknown, version: string): VersionDoc | undefined {
  const versions = versionsOf(packument);
  return Object.hasOwn(versions, version) ? versions[version] : undefined;
}

/** The highest valid version lower than `version`. Prereleases count only for a prerelease. */
export function previousVersionOf(packument: unknown, version: string): string | undefined {
  if (!semver.valid(version)) return undefined;
  let best: string | undefined;
  for (const candidate of Object.keys(versionsOf(packument))) {
    if (!semver.valid(candidate) || !semver.lt(candidate, version)) continue;
    if (semver.prerelease(candidate) && !semver.prerelease(version)) continue;
    if (best === undefined || semver.gt(candidate, best)) best = candidate;
  }
  return best;
}

function personName(value: unknown): string | undefined {
  if (typeof value === 'string') return value.replace(/\s*[<(].*$/, '').trim() || undefined;
  if (isRecord(value) && typeof value.name === 'string') return value.name;
  return undefined;
}

function maintainerNames(doc: VersionDoc | undefined): string[] | null {
  if (!doc || !Array.isArray(doc.maintainers)) return null;
  const names = doc.maintainers.map(personName).filter((n): n is string => n !== undefined);
  return [...new Set(names)].sort();
}

function hasAttestations(doc: VersionDoc | undefined): boolean {
  return isRecord(doc?.dist) && doc.dist.attestations !== undefined && doc.dist.attestations !== null;
}

/** Install events a packument version document declares; null when it does not say. */
export function declaredInstallEvents(doc: VersionDoc | undefined): LifecycleEvent[] | null {
  if (!doc) return null;
  if (isRecord(doc.scripts)) {
    const scripts = npmScripts(doc.scripts);
    // The registry's copy may lack binding.gyp knowledge; `gypfile: true` is how npm records it.
    return [...new Set(installCommands(scripts, doc.gypfile === true).map((c) => c.event))];
  }
  if (doc.gypfile === true) return ['install'];
  // A full version document lists its `scripts` when it has any: no key means none. Only the
  // abbreviated form's `hasInstallScript: true` says "some, unknown which".
  return doc.hasInstallScript === true ? null : [];
}

/** The previous version's install commands by event (`undefined` entries when only a flag is known). */
export function previousInstallCommands(doc: VersionDoc | undefined): Map<LifecycleEvent, string> | null {
  if (!doc) return null;
  if (isRecord(doc.scripts) || doc.gypfile === true) {
    const scripts = npmScripts(doc.scripts);
    return new Map(installCommands(scripts, doc.gypfile === true).map((c) => [c.event, c.command]));
  }
  // No `scripts` key in a full version document means no scripts (see above).
  return doc.hasInstallScript === true ? null : new Map();
}

/**
 * When the package was first published: `time.created`, or the earliest version's time when a
 * registry leaves `created` out (mirrors and proxies often do).
 */
function firstPublishedAt(packument: unknown): string | undefined {
  const created = timeOf(packument, 'created');
  if (created !== undefined || !isRecord(packument) || !isRecord(packument.time)) return created;
  let first: string | undefined;
  for (const [key, value] of Object.entries(packument.time)) {
    if (key === 'modified' || typeof value !== 'string' || Number.isNaN(Date.parse(value))) continue;
    if (first === undefined || Date.parse(value) < Date.parse(first)) first = value;
  }
  return first;
}

function timeOf(packument: unknown, key: string): string | undefined {
  if (!isRecord(packument) || !isRecord(packument.time)) return undefined;
  const value = packument.time[key];
  return typeof value === 'string' && !Number.isNaN(Date.parse(value)) ? value : undefined;
}

/**
 * The part of a packument the static analysis reads for `version` (readMetadata, versionDoc): the
 * `time` map, every version's key, and the documents of this version and the one before it (the
 * others as empty documents: they are counted, never read). What a worker thread is sent instead of
 * the whole packument, which for a package with thousands of versions is tens of megabytes.
 */
export function packumentForStatic(packument: unknown, version: string): unknown {
  if (!isRecord(packument)) return packument;
  const previous = previousVersionOf(packument, version);
  const versions: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
  if (isRecord(packument.versions))
    for (const [key, doc] of Object.entries(packument.versions))
      versions[key] = key === version || key === previous || !isRecord(doc) ? doc : {};
  return { versions: isRecord(packument.versions) ? versions : packument.versions, time: packument.time };
}

export function readMetadata(packument: unknown, version: string, now: Date): MetadataSignals {
  const current = versionDoc(packument, version);
  const previousVersion = previousVersionOf(packument, version);
  const previous = previousVersion === undefined ? undefined : versionDoc(packument, previousVersion);
  const publishedAt = timeOf(packument, version);
  const createdAt = firstPublishedAt(packument);
  const currentNames = maintainerNames(current) ?? [];
  const previousNames = previous ? maintainerNames(previous) : null;
  const publisher = personName(current?._npmUser);
  const previousPublisher = personName(previous?._npmUser);
  const currentProvenance = hasAttestations(current);
  const previousProvenance = previous ? hasAttestations(previous) : null;
  return {
    ...(previousVersion !== undefined ? { previousVersion } : {}),
    ...(previousVersion !== undefined
      ? { releaseType: semver.diff(previousVersion, version) ?? 'none' }
      : {}),
    ...(publishedAt !== undefined ? { publishedAt } : {}),
    ...(publishedAt !== undefined
      ? { ageHours: Math.round(((now.getTime() - Date.parse(publishedAt)) / 3_600_000) * 10) / 10 }
      : {}),
    ...(createdAt !== undefined ? { packageCreatedAt: createdAt } : {}),
    versionCount: Object.keys(versionsOf(packument)).length,
    maintainers: {
      current: currentNames,
      previous: previousNames,
      added: previousNames === null ? [] : currentNames.filter((n) => !previousNames.includes(n)),
      removed: previousNames === null ? [] : previousNames.filter((n) => !currentNames.includes(n)),
      ...(publisher !== undefined ? { publisher } : {}),
      ...(previousPublisher !== undefined ? { previousPublisher } : {}),
    },
    provenance: {
      current: currentProvenance,
      previous: previousProvenance,
      lost: previousProvenance === true && !currentProvenance,
    },
    packumentInstallEvents: declaredInstallEvents(current),
  };
}
