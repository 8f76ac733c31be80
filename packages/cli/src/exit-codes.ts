import { packageFailure, STORAGE_FULL_RULE, UPSTREAM_UNAVAILABLE_RULE } from '@secure-registry/shared';
import type { PackageFailure, PackageState, ScanPackage } from '@secure-registry/shared';

/**
 * Exit codes of `secure-registry` (documented in the README):
 *  0 every package approved (or nothing that the --fail-on policy fails on)
 *  1 a package was rejected, or is blocked because it depends on a rejected one
 *  2 a package is held for review, not vettable (git / URL / file / link source) or undecided
 *  3 usage, input or credentials error (bad flags, no lockfile, malformed lockfile, a refused token)
 *  4 server or network failure, or an infrastructure failure during the scan: a package could not
 *    be analysed because the upstream registry could not be fetched from or the server's storage
 *    was full (not decided, never approved)
 */
export const ExitCode = {
  Ok: 0,
  Rejected: 1,
  NeedsAttention: 2,
  UsageError: 3,
  RemoteError: 4,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/**
 * `--fail-on`: the least severe outcome that still fails the run. Each level includes the ones
 * above it: `unvettable` (default) fails on rejected, review and unvettable; `review` on rejected
 * and review; `rejected` only on rejected/blocked; `none` never fails on verdicts.
 */
export const FAIL_ON = ['rejected', 'review', 'unvettable', 'none'] as const;
export type FailOn = (typeof FAIL_ON)[number];
export const DEFAULT_FAIL_ON: FailOn = 'unvettable';

export function isFailOn(value: string): value is FailOn {
  return (FAIL_ON as readonly string[]).includes(value);
}

/** What the exit code looks at: the state, and the findings that tell an infrastructure failure. */
export type ExitCodePackage = Pick<ScanPackage, 'state'> &
  Partial<Pick<ScanPackage, 'reason' | 'findings' | 'failure'>>;

export interface InfrastructureFailure {
  /** What failed: the upstream registry (the default of older servers) or the server's storage. */
  cause: NonNullable<PackageFailure['cause']>;
  reason: string;
  packages: number;
}

/**
 * The distinct reasons of the infrastructure failures in a scan (an upstream outage: which
 * upstream, what happened; a full disk), each with the number of packages it left undecided.
 */
export function infrastructureFailures(packages: readonly ExitCodePackage[]): InfrastructureFailure[] {
  const byReason = new Map<string, InfrastructureFailure>();
  for (const pkg of packages) {
    const failure =
      pkg.failure ?? (pkg.findings ? packageFailure({ ...pkg, findings: pkg.findings }) : undefined);
    if (!failure) continue;
    const seen = byReason.get(failure.reason);
    if (seen) seen.packages++;
    else
      byReason.set(failure.reason, {
        cause: failure.cause ?? UPSTREAM_UNAVAILABLE_RULE,
        reason: failure.reason,
        packages: 1,
      });
  }
  return [...byReason.values()];
}

/** The `ERR_SR_*` code of a scan's infrastructure failures: the one cause's, or the general one. */
export function infrastructureErrorCode(failures: readonly InfrastructureFailure[]): string {
  const causes = new Set(failures.map((failure) => failure.cause));
  if (causes.size !== 1) return 'ERR_SR_INFRASTRUCTURE';
  return causes.has(STORAGE_FULL_RULE) ? 'ERR_SR_STORAGE_FULL' : 'ERR_SR_UPSTREAM_UNAVAILABLE';
}

/**
 * The exit code of a finished scan. A rejection wins (1: it is a fact about a package, whatever
 * else failed); then an infrastructure failure (4, whatever `--fail-on` says: the scan could not
 * vet those packages); then the `--fail-on` policy over the verdicts.
 */
export function exitCodeFor(packages: readonly ExitCodePackage[], failOn: FailOn): ExitCode {
  const states = new Set<PackageState>(packages.map((pkg) => pkg.state));
  if (failOn !== 'none' && (states.has('rejected') || states.has('blocked'))) return ExitCode.Rejected;
  if (infrastructureFailures(packages).length > 0) return ExitCode.RemoteError;
  if (failOn === 'none') return ExitCode.Ok;
  if (failOn === 'rejected') return ExitCode.Ok;
  // Undecided packages are never treated as approved (fail closed).
  if (states.has('review') || states.has('pending') || states.has('analyzing'))
    return ExitCode.NeedsAttention;
  if (failOn === 'unvettable' && states.has('unvettable')) return ExitCode.NeedsAttention;
  return ExitCode.Ok;
}
