import { packageFailure } from '@secure-registry/shared';
import type { Finding, ScanCounts, ScanEvent, ScanResult } from '@secure-registry/shared';
import { infrastructureFailures } from '../exit-codes.js';
import { explain, problemPackages } from './order.js';

/** Line-oriented rendering for CI logs and pipes: one line per decision that matters. */

export function formatCounts(counts: ScanCounts): string {
  const parts = [`${counts.approved} approved`];
  for (const key of ['rejected', 'blocked', 'review', 'unvettable', 'pending', 'analyzing'] as const) {
    if (counts[key] > 0) parts.push(`${counts[key]} ${key}`);
  }
  return `${parts.join(', ')} (of ${counts.total})`;
}

export function formatFinding(finding: Finding): string {
  return `    [${finding.severity}] ${finding.rule}: ${finding.message}`;
}

/**
 * Lines for one streamed event: the snapshot, one line per package as it finishes (approved ones
 * in short, the others with the reason and findings; `steps`: the analysis steps it went through,
 * with their times) and the completion; `quiet` drops the per-package lines (the summary still
 * names every package that is not approved). Step events themselves print nothing.
 */
export function plainEventLines(
  event: ScanEvent,
  options: { quiet?: boolean; steps?: readonly string[] } = {},
): string[] {
  if (event.type === 'scan.snapshot') {
    return [
      `scan ${event.scan.id}: ${event.scan.counts.total} packages (${formatCounts(event.scan.counts)})`,
    ];
  }
  if (event.type === 'scan.completed') return [`scan ${event.scan.id} ${event.scan.status}`];
  if (event.type === 'package.phase') return [];
  if (options.quiet || event.state === 'pending' || event.state === 'analyzing') return [];
  const steps = options.steps?.length ? ` (${options.steps.join(', ')})` : '';
  if (event.state === 'approved') return [`APPROVED ${event.name}@${event.version}${steps}`];
  // Not analysed because the infrastructure failed: not a verdict, so not shown as one.
  if (packageFailure(event)) return [`FAILED ${event.name}@${event.version}: ${explain(event)}${steps}`];
  return [
    `${event.state.toUpperCase()} ${event.name}@${event.version}: ${explain(event)}${steps}`,
    ...event.findings.map(formatFinding),
  ];
}

/**
 * The final summary: the reason for every non-approved package, root causes first; `analysis`: what
 * ran in the scan and where (../ui/phase-state.ts `phaseSummaryLines`).
 */
export function plainSummaryLines(
  result: ScanResult,
  exitCode: number,
  analysis: readonly string[] = [],
): string[] {
  const lines = ['', `summary: ${formatCounts(result.counts)}`];
  for (const pkg of problemPackages(result.packages)) {
    const state = packageFailure(pkg) ? 'failed' : pkg.state;
    lines.push(`  ${state.padEnd(10)} ${pkg.name}@${pkg.version}  ${explain(pkg)}`);
  }
  lines.push(...analysis);
  for (const failure of infrastructureFailures(result.packages)) lines.push(infrastructureLine(failure));
  lines.push(`exit code ${exitCode}`);
  return lines;
}

/** The one line that names an infrastructure failure of a scan (exit 4): which upstream, what happened. */
export function infrastructureLine(failure: { reason: string; packages: number }): string {
  return `infrastructure failure: ${failure.reason} (${failure.packages} package${failure.packages === 1 ? '' : 's'} not analysed)`;
}
