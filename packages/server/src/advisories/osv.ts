// OSV records (https://ossf.github.io/osv-schema/) of malicious npm packages: the `MAL-` ids the
// OpenSSF malicious-packages project publishes (also in OSV's npm export, all.zip). Only what the
// import reads is validated; everything else in a record is ignored.
import semver from 'semver';
import { z } from 'zod';
import type { AdvisoryRecord } from '@secure-registry/shared';

const OsvEvent = z.object({
  introduced: z.string().optional(),
  fixed: z.string().optional(),
  last_affected: z.string().optional(),
  limit: z.string().optional(),
});

const OsvRange = z.object({ type: z.string(), events: z.array(OsvEvent) });

const OsvAffected = z.object({
  package: z.object({ ecosystem: z.string(), name: z.string() }).optional(),
  ranges: z.array(OsvRange).optional(),
  versions: z.array(z.string()).optional(),
});

export const OsvRecord = z.object({
  id: z.string().min(1).max(200),
  modified: z.string().optional(),
  withdrawn: z.string().optional(),
  aliases: z.array(z.string()).optional(),
  summary: z.string().optional(),
  details: z.string().optional(),
  affected: z.array(OsvAffected).optional(),
});
export type OsvRecord = z.infer<typeof OsvRecord>;

export type OsvRange = z.infer<typeof OsvRange>;

/** What is kept of one advisory for one npm package name: enough to match any later version. */
export interface PackageAdvisory extends AdvisoryRecord {
  name: string;
  /** Versions the record lists by name. */
  versions: string[];
  /** SEMVER / ECOSYSTEM ranges (npm versions are semver), as OSV gives them. */
  ranges: OsvRange[];
}

/** Is the record about malicious code (not a vulnerability)? OSV gives malware `MAL-` ids. */
export function isMalwareRecord(record: OsvRecord): boolean {
  return record.id.startsWith('MAL-');
}

/** The npm packages a record names, each with its versions and ranges. */
export function packageAdvisories(record: OsvRecord, source: string): PackageAdvisory[] {
  const byName = new Map<string, PackageAdvisory>();
  for (const affected of record.affected ?? []) {
    if (affected.package?.ecosystem !== 'npm') continue;
    const { name } = affected.package;
    const entry = byName.get(name) ?? {
      id: record.id,
      summary: summaryOf(record, name),
      source,
      ...(record.modified ? { modified: record.modified } : {}),
      ...(record.aliases?.length ? { aliases: record.aliases } : {}),
      name,
      versions: [],
      ranges: [],
    };
    entry.versions.push(...(affected.versions ?? []));
    entry.ranges.push(
      ...(affected.ranges ?? []).filter((range) => range.type === 'SEMVER' || range.type === 'ECOSYSTEM'),
    );
    byName.set(name, entry);
  }
  return [...byName.values()];
}

function summaryOf(record: OsvRecord, name: string): string {
  const text = record.summary ?? record.details?.split('\n')[0] ?? `Malicious code in ${name} (npm)`;
  return text.length > 300 ? `${text.slice(0, 297)}...` : text;
}

/** OSV orders events by version with "0" before every version. */
function eventVersion(event: z.infer<typeof OsvEvent>): string | undefined {
  return event.introduced ?? event.fixed ?? event.last_affected ?? event.limit;
}

function compareEventVersions(a: string, b: string): number {
  if (a === b) return 0;
  if (a === '0') return -1;
  if (b === '0') return 1;
  return semver.compare(a, b, { loose: true });
}

/**
 * Whether `version` is in the range, by the OSV schema's evaluation: events sorted by version;
 * `introduced` at or below the version makes it affected, a `fixed` at or below or a
 * `last_affected` below makes it not (`limit` only bounds git ranges). Unparseable versions in the
 * range make the range match nothing (never a guess).
 */
export function inOsvRange(version: string, range: OsvRange): boolean {
  if (!semver.valid(version, { loose: true })) return false;
  const events = range.events.filter((event) => {
    const at = eventVersion(event);
    return at !== undefined && (at === '0' || semver.valid(at, { loose: true }) !== null);
  });
  if (events.length !== range.events.length) return false;
  events.sort((a, b) => compareEventVersions(eventVersion(a) as string, eventVersion(b) as string));
  let affected = false;
  for (const event of events) {
    if (event.introduced !== undefined) {
      if (event.introduced === '0' || semver.gte(version, event.introduced, { loose: true })) affected = true;
    } else if (event.fixed !== undefined) {
      if (semver.gte(version, event.fixed, { loose: true })) affected = false;
    } else if (event.last_affected !== undefined) {
      if (semver.gt(version, event.last_affected, { loose: true })) affected = false;
    }
  }
  return affected;
}

/** Does the advisory name this version (listed, or inside one of its ranges)? */
export function advisoryCovers(
  advisory: Pick<PackageAdvisory, 'versions' | 'ranges'>,
  version: string,
): boolean {
  return advisory.versions.includes(version) || advisory.ranges.some((range) => inOsvRange(version, range));
}

/** The advisory pieces stored in an artifact's reports, for the advisories that cover `version`. */
export function advisoriesFor(advisories: readonly PackageAdvisory[], version: string): AdvisoryRecord[] {
  return advisories
    .filter((advisory) => advisoryCovers(advisory, version))
    .map(({ id, summary, source, modified, aliases }) => ({
      id,
      summary,
      source,
      ...(modified ? { modified } : {}),
      ...(aliases ? { aliases } : {}),
    }));
}
