import type { Finding, ScanCounts, ScanEvent, ScanResult } from '@secure-registry/shared';
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

/** Lines for one streamed event (empty for events not worth a line). */
export function plainEventLines(event: ScanEvent): string[] {
  if (event.type === 'scan.snapshot') {
    return [
      `scan ${event.scan.id}: ${event.scan.counts.total} packages (${formatCounts(event.scan.counts)})`,
    ];
  }
  if (event.type === 'scan.completed') return [`scan ${event.scan.id} ${event.scan.status}`];
  if (event.state === 'approved' || event.state === 'pending' || event.state === 'analyzing') return [];
  return [
    `${event.state.toUpperCase()} ${event.name}@${event.version}: ${explain(event)}`,
    ...event.findings.map(formatFinding),
  ];
}

/** The final summary: the reason for every non-approved package, root causes first. */
export function plainSummaryLines(result: ScanResult, exitCode: number): string[] {
  const lines = ['', `summary: ${formatCounts(result.counts)}`];
  for (const pkg of problemPackages(result.packages)) {
    lines.push(`  ${pkg.state.padEnd(10)} ${pkg.name}@${pkg.version}  ${explain(pkg)}`);
  }
  lines.push(`exit code ${exitCode}`);
  return lines;
}
