import { z } from 'zod';
import type { Finding, PackageState } from './verdict.js';

/**
 * The finding of a package that could not be analysed because the upstream registry could not be
 * fetched from (an outage: refused or reset connections, timeouts, 5xx). Not a decision about the
 * package: it is held (never approved) and analysed again by the next scan.
 */
export const UPSTREAM_UNAVAILABLE_RULE = 'upstream-unavailable';

/**
 * Why a package in a scan has no verdict when it is not the package's doing: `infrastructure`
 * (the upstream registry could not be fetched from). `reason` names the upstream and what happened.
 */
export const PackageFailure = z.object({
  kind: z.literal('infrastructure'),
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
  const finding = pkg.findings.find((candidate) => candidate.rule === UPSTREAM_UNAVAILABLE_RULE);
  if (!finding) return undefined;
  return { kind: 'infrastructure', reason: pkg.reason ?? finding.evidence[0]?.excerpt ?? finding.message };
}
