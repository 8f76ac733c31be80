/**
 * The reasons the vetted registry gives when it refuses something, written for the person who
 * reads them in npm's output (`403 Forbidden - GET …/x-1.0.0.tgz - rejected: …`). Pure.
 */
import type { ArtifactRecord } from '../../storage/store.js';
import { evidenceUrl } from './registry-path.js';
import { groupByVersion, isServable } from './served-versions.js';

export const NOT_VETTED = 'not yet vetted: run secure-registry scan';

/** Which record of a version explains a refusal best: rejected, then review, then pending. */
const PRIORITY: Record<ArtifactRecord['verdict'], number> = {
  rejected: 0,
  review: 1,
  pending: 2,
  approved: 3,
};

function oneLine(text: string, max = 300): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/** The most telling record among a version's records (undefined for none). */
export function mostTellingRecord(
  records: readonly ArtifactRecord[] | undefined,
): ArtifactRecord | undefined {
  if (!records || records.length === 0) return undefined;
  return [...records].sort((a, b) => PRIORITY[a.verdict] - PRIORITY[b.verdict])[0];
}

/** Why one version's tarball is refused, from its records (none: never vetted). */
export function refusalReason(
  records: readonly ArtifactRecord[] | undefined,
  options: { queued?: boolean } = {},
): string {
  const record = mostTellingRecord(records);
  const notVetted = options.queued ? `${NOT_VETTED} (analysis queued; retry when it completes)` : NOT_VETTED;
  if (!record) return notVetted;
  const because = record.reason ? oneLine(record.reason) : undefined;
  switch (record.verdict) {
    case 'rejected':
      return `rejected: ${because ?? 'the analysis found it unsafe'}`;
    case 'review':
      return `held for review: ${because ?? 'a person must decide'}`;
    case 'pending':
      return `not yet vetted: analysis of ${record.name}@${record.version} is in progress`;
    case 'approved':
      // Approved but the bytes were never stored, or another integrity than upstream's.
      return isServable(record)
        ? `not yet vetted: the approved ${record.name}@${record.version} differs from the upstream tarball`
        : `not yet vetted: the approved ${record.name}@${record.version} has no stored tarball`;
  }
}

/**
 * The 404 message for a packument without a servable version, summarising upstream's versions by
 * verdict: `no approved version of x: 2 rejected (1.0.1: rejected: …), 3 not yet vetted: run …`.
 */
export function noServedVersionsMessage(input: {
  name: string;
  upstreamVersions: readonly string[];
  records: readonly ArtifactRecord[];
  /** This registry's URL: when given, the message ends with what to do next (` | …`). */
  baseUrl?: string;
}): string {
  const byVersion = groupByVersion(input.records);
  const versions = input.upstreamVersions.length > 0 ? input.upstreamVersions : [...byVersion.keys()];
  const counts = { rejected: 0, review: 0, pending: 0 };
  let example: string | undefined;
  let exampleVersion = versions.at(-1);
  for (const version of versions) {
    const record = mostTellingRecord(byVersion.get(version));
    if (!record || record.verdict === 'pending' || record.verdict === 'approved') counts.pending++;
    else counts[record.verdict]++;
    if (record && record.verdict !== 'approved' && record.verdict !== 'pending' && example === undefined) {
      example = `${version}: ${refusalReason([record])}`;
      exampleVersion = version;
    }
  }
  const parts: string[] = [];
  if (counts.rejected > 0) parts.push(`${counts.rejected} rejected`);
  if (counts.review > 0) parts.push(`${counts.review} held for review`);
  if (counts.pending > 0) parts.push(`${counts.pending} ${NOT_VETTED}`);
  const summary = parts.length > 0 ? parts.join(', ') : NOT_VETTED;
  const message = `no approved version of ${input.name}: ${summary}${example ? ` (${example})` : ''}`;
  if (input.baseUrl === undefined || exampleVersion === undefined) return message;
  const { next } = describeRefusal({
    name: input.name,
    version: exampleVersion,
    records: byVersion.get(exampleVersion),
    baseUrl: input.baseUrl,
  });
  return `secure-registry: ${message} | ${next}`;
}

/** What the registry says when it refuses one version: the verdict, the reason, what to do next. */
export interface Refusal {
  name: string;
  version: string;
  /** `not-vetted`: no record, or only an approval that cannot be served. */
  verdict: 'rejected' | 'review' | 'pending' | 'not-vetted';
  /** One line, starting with the verdict: `rejected: writes CI configuration`. */
  reason: string;
  /** What the person who reads it can do next. */
  next: string;
}

/**
 * The refusal of name@version from its records. `baseUrl` is this registry's URL (the evidence
 * lives under its API); `queued`: an analysis was just queued for a never-vetted version.
 */
export function describeRefusal(input: {
  name: string;
  version: string;
  records: readonly ArtifactRecord[] | undefined;
  baseUrl: string;
  queued?: boolean;
}): Refusal {
  const { name, version } = input;
  const id = `${name}@${version}`;
  const record = mostTellingRecord(input.records);
  const reason = record
    ? refusalReason(input.records)
    : `not yet vetted${input.queued ? ' (an analysis is queued now)' : ''}`;
  const evidence = evidenceUrl(input.baseUrl, name, version);
  const base = { name, version, reason };
  switch (record?.verdict) {
    case 'rejected':
      return {
        ...base,
        verdict: 'rejected',
        next: `evidence: ${evidence} or \`secure-registry review ${id}\`; pick another version, or ask a reviewer to decide again`,
      };
    case 'review':
      return {
        ...base,
        verdict: 'review',
        next: `waiting for a person: ask a reviewer to run \`secure-registry review ${id}\` (evidence: ${evidence})`,
      };
    case 'pending':
      return {
        ...base,
        verdict: 'pending',
        next: `retry when the analysis completes (progress: ${evidence})`,
      };
    default:
      return {
        ...base,
        verdict: 'not-vetted',
        next: input.queued
          ? 'retry in a few minutes'
          : `vet it first: \`secure-registry install ${id}\` or \`secure-registry scan\` in the project`,
      };
  }
}

/** The refusal in one line, for an error body, a reason phrase or a `deprecated` field. */
export function refusalLine(refusal: Refusal): string {
  return oneLine(
    `secure-registry refused ${refusal.name}@${refusal.version}: ${refusal.reason} | ${refusal.next}`,
    600,
  );
}

/**
 * The refusal as URL path words (`rejected--writes-CI-configuration--…`), for the tarball URL of
 * a refused version: pnpm prints only the URL when a tarball is refused. At most ~120 characters.
 */
export function refusalSlug(refusal: Refusal): string {
  const words = (text: string) =>
    text
      .replace(/[^A-Za-z0-9@._~+-]+/g, '-')
      .replace(/-{2,}/g, '-')
      .replace(/^-|-$/g, '');
  const next =
    refusal.verdict === 'rejected' || refusal.verdict === 'review'
      ? `see-secure-registry-review-${refusal.name.replace('/', '+')}@${refusal.version}`
      : refusal.verdict === 'not-vetted'
        ? 'vet-it-with-secure-registry-install'
        : 'retry-later';
  const all = words(refusal.reason);
  // Cut at a word boundary when it is too long.
  const reason = all.length > 90 ? all.slice(0, 90).replace(/-[^-]*$/, '') : all;
  return `${reason}--${next}`;
}
