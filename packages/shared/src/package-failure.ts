import { z } from 'zod';
import type { Finding, PackageState } from './verdict.js';

/**
 * The finding of a package that could not be analysed because the upstream registry could not be
 * fetched from (an outage: refused or reset connections, timeouts, 5xx). Not a decision about the
 * package: it is held (never approved) and analysed again by the next scan.
 */
export const UPSTREAM_UNAVAILABLE_RULE = 'upstream-unavailable';

/**
 * The finding of a package that could not be analysed because the server's storage was full
 * (ENOSPC, SQLite's "database or disk is full", PostgreSQL's 53100). Not a decision either: held,
 * never approved, and analysed again by the next scan once there is room.
 */
export const STORAGE_FULL_RULE = 'storage-full';

/** The findings that say the package was not analysed for the server's reasons, not its own. */
export const INFRASTRUCTURE_RULES: readonly string[] = [UPSTREAM_UNAVAILABLE_RULE, STORAGE_FULL_RULE];

/**
 * Why a package in a scan has no verdict when it is not the package's doing: `infrastructure`,
 * with its `cause` (the upstream registry could not be fetched from, or the server's storage was
 * full). `reason` names what happened (the upstream and its error, the full disk).
 */
export const PackageFailure = z.object({
  kind: z.literal('infrastructure'),
  cause: z.enum([UPSTREAM_UNAVAILABLE_RULE, STORAGE_FULL_RULE]).optional(),
  reason: z.string(),
});
export type PackageFailure = z.infer<typeof PackageFailure>;

/** The infrastructure failure that left a scan package undecided, if that is what happened. */
export function packageFailure(pkg: {
  readonly state: PackageState;
  readonly reason?: string | undefined;
  readonly findings: readonly Pick<Finding, 'rule' | 'message' | 'evidence'>[];
}): PackageFailure | undefined {
  if (pkg.state !== 'review') return undefined;
  const finding = pkg.findings.find((candidate) => INFRASTRUCTURE_RULES.includes(candidate.rule));
  if (!finding) return undefined;
  return {
    kind: 'infrastructure',
    cause: finding.rule === STORAGE_FULL_RULE ? STORAGE_FULL_RULE : UPSTREAM_UNAVAILABLE_RULE,
    reason: pkg.reason ?? finding.evidence[0]?.excerpt ?? finding.message,
  };
}
