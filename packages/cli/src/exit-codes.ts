import type { PackageState, ScanPackage } from '@secure-registry/shared';

/**
 * Exit codes of `secure-registry` (documented in the README):
 *  0 every package approved (or nothing that the --fail-on policy fails on)
 *  1 a package was rejected, or is blocked because it depends on a rejected one
 *  2 a package is held for review, not vettable (git / URL / file / link source) or undecided
 *  3 usage, input or credentials error (bad flags, no lockfile, malformed lockfile, a refused token)
 *  4 server or network failure
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

export function exitCodeFor(packages: readonly Pick<ScanPackage, 'state'>[], failOn: FailOn): ExitCode {
  if (failOn === 'none') return ExitCode.Ok;
  const states = new Set<PackageState>(packages.map((pkg) => pkg.state));
  if (states.has('rejected') || states.has('blocked')) return ExitCode.Rejected;
  if (failOn === 'rejected') return ExitCode.Ok;
  // Undecided packages are never treated as approved (fail closed).
  if (states.has('review') || states.has('pending') || states.has('analyzing'))
    return ExitCode.NeedsAttention;
  if (failOn === 'unvettable' && states.has('unvettable')) return ExitCode.NeedsAttention;
  return ExitCode.Ok;
}
