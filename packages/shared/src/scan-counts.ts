import type { ScanCounts } from './api.js';
import type { PackageState } from './verdict.js';

/** Counts of a scan whose `pending` packages (default none) have not started yet. */
export function pendingScanCounts(pending = 0): ScanCounts {
  return {
    total: pending,
    pending,
    analyzing: 0,
    approved: 0,
    rejected: 0,
    review: 0,
    blocked: 0,
    unvettable: 0,
  };
}

/** The total and the number of packages in each state. */
export function countStates(packages: Iterable<{ readonly state: PackageState }>): ScanCounts {
  const counts = pendingScanCounts();
  for (const pkg of packages) {
    counts.total++;
    counts[pkg.state]++;
  }
  return counts;
}
