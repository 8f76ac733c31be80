import { z } from 'zod';

/** Severity of a finding, ordered from least to most severe. */
export const SEVERITIES = ['info', 'low', 'medium', 'high', 'critical'] as const;
export const Severity = z.enum(SEVERITIES);
export type Severity = z.infer<typeof Severity>;

export function severityRank(severity: Severity): number {
  return SEVERITIES.indexOf(severity);
}

/** The decision on an artifact. `pending` means no decision yet. */
export const Verdict = z.enum(['approved', 'rejected', 'review', 'pending']);
export type Verdict = z.infer<typeof Verdict>;

/**
 * The state of one package inside one scan. Adds to the artifact verdicts:
 * `analyzing` (a job is running), `blocked` (depends on a rejected package) and
 * `unvettable` (git, tarball-URL, file or link sources that cannot be vetted).
 */
export const PackageState = z.enum([
  'pending',
  'analyzing',
  'approved',
  'rejected',
  'review',
  'blocked',
  'unvettable',
]);
export type PackageState = z.infer<typeof PackageState>;

/** One piece of evidence behind a finding: a file line, an observed event, or a metadata fact. */
export const Evidence = z.object({
  kind: z.enum(['file', 'event', 'metadata']),
  /** File path inside the package (file evidence) or the path an event touched. */
  path: z.string().optional(),
  line: z.number().int().positive().optional(),
  /** A short excerpt of the line, event or value, at most a few hundred characters. */
  excerpt: z.string().max(2000).optional(),
  /** For event evidence: the event's sequence number in the raw trace. */
  eventSeq: z.number().int().nonnegative().optional(),
  /** Free-form detail: a metadata field name, a host, a phase. */
  detail: z.string().max(2000).optional(),
});
export type Evidence = z.infer<typeof Evidence>;

export const Finding = z.object({
  rule: z.string().min(1),
  severity: Severity,
  message: z.string().min(1),
  evidence: z.array(Evidence).default([]),
});
export type Finding = z.infer<typeof Finding>;

/** The highest severity in a list of findings, or undefined for none. */
export function maxSeverity(findings: readonly Pick<Finding, 'severity'>[]): Severity | undefined {
  let best: Severity | undefined;
  for (const finding of findings) {
    if (best === undefined || severityRank(finding.severity) > severityRank(best)) best = finding.severity;
  }
  return best;
}
