import type { PackageState, ScanPackage } from '@secure-registry/shared';

/** Root causes first: rejected, then blocked, then review, unvettable, undecided, approved. */
export const STATE_ORDER: readonly PackageState[] = [
  'rejected',
  'blocked',
  'review',
  'unvettable',
  'pending',
  'analyzing',
  'approved',
];

export function sortByRootCause<T extends Pick<ScanPackage, 'state' | 'name' | 'version'>>(
  packages: readonly T[],
): T[] {
  return [...packages].sort(
    (a, b) =>
      STATE_ORDER.indexOf(a.state) - STATE_ORDER.indexOf(b.state) ||
      a.name.localeCompare(b.name) ||
      a.version.localeCompare(b.version),
  );
}

/** The packages that are not approved, root causes first. */
export function problemPackages<T extends Pick<ScanPackage, 'state' | 'name' | 'version'>>(
  packages: readonly T[],
): T[] {
  return sortByRootCause(packages.filter((pkg) => pkg.state !== 'approved'));
}

/** One line explaining a package's state. */
export function explain(pkg: Pick<ScanPackage, 'state' | 'reason' | 'blockedBy' | 'findings'>): string {
  if (pkg.reason) return pkg.reason;
  if (pkg.state === 'blocked' && pkg.blockedBy) {
    return `depends on rejected ${pkg.blockedBy.name}@${pkg.blockedBy.version} (${pkg.blockedBy.path.join(' > ')})`;
  }
  const first = pkg.findings[0];
  if (first) return `${first.rule}: ${first.message}`;
  if (pkg.state === 'pending' || pkg.state === 'analyzing') return 'no verdict yet (not treated as approved)';
  return pkg.state;
}
