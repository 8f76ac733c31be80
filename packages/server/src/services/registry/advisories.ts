/**
 * Rejected and held versions as npm bulk advisories (`POST /-/npm/v1/security/advisories/bulk`),
 * so `npm audit` against the vetted registry lists them. Pure.
 */
import { createHash } from 'node:crypto';
import { encodePackageName, isValidPackageName, maxSeverity } from '@secure-registry/shared';
import type { Severity } from '@secure-registry/shared';
import type { ArtifactRecord } from '../../storage/store.js';
import { createRecord, isRecord } from './records.js';
import { groupByVersion } from './served-versions.js';
import { refusalReason } from './reasons.js';

export type NpmSeverity = 'info' | 'low' | 'moderate' | 'high' | 'critical';

/** One advisory in npm's bulk format. */
export interface BulkAdvisory {
  id: number;
  url: string;
  title: string;
  severity: NpmSeverity;
  vulnerable_versions: string;
  cwe: string[];
  cvss: { score: number; vectorString: string | null };
}

export const MAX_BULK_ENTRIES = 100_000;

/** Parses a bulk request body `{ name: [versions] }`; throws a TypeError with a message otherwise. */
export function parseBulkRequest(body: unknown): Map<string, string[]> {
  if (!isRecord(body))
    throw new TypeError('the body must be a JSON object of package names to version lists');
  const request = new Map<string, string[]>();
  let entries = 0;
  for (const [name, versions] of Object.entries(body)) {
    if (!Array.isArray(versions) || versions.some((version) => typeof version !== 'string')) {
      throw new TypeError(`the versions of ${JSON.stringify(name.slice(0, 220))} must be a list of strings`);
    }
    entries += versions.length + 1;
    if (entries > MAX_BULK_ENTRIES) throw new TypeError(`too many entries (at most ${MAX_BULK_ENTRIES})`);
    if (!isValidPackageName(name)) continue; // nothing can be known about an invalid name
    request.set(name, [...new Set(versions as string[])]);
  }
  return request;
}

const NPM_SEVERITY: Record<Severity, NpmSeverity> = {
  info: 'info',
  low: 'low',
  medium: 'moderate',
  high: 'high',
  critical: 'critical',
};
const RANK: NpmSeverity[] = ['info', 'low', 'moderate', 'high', 'critical'];

function atLeast(severity: NpmSeverity, floor: NpmSeverity): NpmSeverity {
  return RANK.indexOf(severity) >= RANK.indexOf(floor) ? severity : floor;
}

/** A stable positive id for an advisory: the same artifact verdict always gets the same id. */
function advisoryId(record: ArtifactRecord): number {
  const digest = createHash('sha256').update(`${record.name}@${record.version}:${record.verdict}`).digest();
  return digest.readUIntBE(0, 6);
}

/** The advisory for one refused record, or undefined when the record is not refused. */
export function advisoryFor(record: ArtifactRecord, baseUrl: string): BulkAdvisory | undefined {
  if (record.verdict !== 'rejected' && record.verdict !== 'review') return undefined;
  const found = maxSeverity(record.findings);
  const mapped = found ? NPM_SEVERITY[found] : undefined;
  const severity =
    record.verdict === 'rejected'
      ? atLeast(mapped ?? 'high', 'high')
      : atLeast(mapped ?? 'moderate', 'moderate');
  const base = baseUrl.endsWith('/') ? baseUrl.slice(0, -1) : baseUrl;
  return {
    id: advisoryId(record),
    url: `${base}/api/v1/packages/${encodePackageName(record.name)}/${encodeURIComponent(record.version)}`,
    title: `secure-registry: ${record.name}@${record.version} ${refusalReason([record])}`,
    severity,
    vulnerable_versions: record.version,
    cwe: [],
    cvss: { score: 0, vectorString: null },
  };
}

/**
 * Advisories for the requested versions: a version is listed when one of its artifacts is
 * rejected, or held for review while none is approved. Names without advisories are absent.
 */
export function buildBulkAdvisories(input: {
  request: Map<string, string[]>;
  recordsByName: Map<string, readonly ArtifactRecord[]>;
  baseUrl: string;
}): Record<string, BulkAdvisory[]> {
  const out = createRecord<BulkAdvisory[]>();
  for (const [name, versions] of input.request) {
    const byVersion = groupByVersion(input.recordsByName.get(name) ?? []);
    const advisories: BulkAdvisory[] = [];
    for (const version of versions) {
      const records = byVersion.get(version) ?? [];
      const rejected = records.find((record) => record.verdict === 'rejected');
      const approved = records.some((record) => record.verdict === 'approved');
      const held = approved ? undefined : records.find((record) => record.verdict === 'review');
      const refused = rejected ?? held;
      const advisory = refused ? advisoryFor(refused, input.baseUrl) : undefined;
      if (advisory) advisories.push(advisory);
    }
    if (advisories.length > 0) out[name] = advisories;
  }
  return out;
}
