// One phase of one package under several run variants, judged as one (THREATS.md, "Evasion"): malware
// checks where it runs before it acts.
//
// - DNS like a real resolver: the first round answers NXDOMAIN for every name (a fake internet that
//   resolves made-up names gives itself away) and records what was asked; when names were asked, a second
//   round (of the environments that asked) resolves exactly those names to the sinks (a fresh made-up name asked only then still gets
//   NXDOMAIN). A payload that acts only once its probe name fails to resolve acts in the second round.
// - Environments (install phase): the developer's laptop and a CI runner (`CI`, `GITHUB_ACTIONS`, runner
//   variables), in parallel in each round. Findings (medium and above) that one environment's last round
//   raised and the other's did not go to the report's `differential` (rules/behaviour/environment-differential.ts).
//
// The judged report is the union of every run (events renumbered run after run); status, exit code and
// paths are the developer's last round's (the run most like a real install), and an `error` in any run
// (the sandbox failed) makes the whole `error`: fail closed.
import { dnsNamesAsked, type EnvironmentVariant, type PhaseRun } from '@secure-registry/analyzer';
import { severityRank, type BehaviourReport, type Finding, type TraceEvent } from '@secure-registry/shared';

export interface VariantSpec {
  environment: EnvironmentVariant;
  /** The names that resolve (`[]`: strict, every name NXDOMAIN). */
  dnsAnswers: string[];
}

export interface VariantRun extends VariantSpec {
  label: string;
  run: PhaseRun;
  timeoutMs: number;
}

const ENVIRONMENT_LABEL: Record<EnvironmentVariant, string> = {
  developer: "a developer's laptop",
  ci: 'a CI runner (CI, GITHUB_ACTIONS)',
};

const labelOf = (spec: VariantSpec, round: number): string =>
  `${ENVIRONMENT_LABEL[spec.environment]}, ${round === 1 ? 'strict DNS (every name NXDOMAIN)' : `DNS resolving the ${spec.dnsAnswers.length} name(s) asked`}`;

/** Round 1 strict under every environment at once; round 2, where names were asked, with them answered. */
export async function runVariants(
  environments: readonly EnvironmentVariant[],
  runOne: (spec: VariantSpec) => Promise<{ run: PhaseRun; timeoutMs: number }>,
): Promise<VariantRun[]> {
  const round = (specs: VariantSpec[], n: number): Promise<VariantRun[]> =>
    Promise.all(specs.map(async (spec) => ({ ...spec, label: labelOf(spec, n), ...(await runOne(spec)) })));
  const first = await round(
    environments.map((environment) => ({ environment, dnsAnswers: [] })),
    1,
  );
  const names = [...new Set(first.flatMap((v) => dnsNamesAsked(v.run.events)))];
  // A run that failed: a second round would fail the same way.
  if (first.some((v) => v.run.status === 'error')) return first;
  // Only an environment that looked names up runs again (with every name any of them asked): one that
  // asked nothing does no DNS, and its first run stands for it.
  const again = first.filter((v) => dnsNamesAsked(v.run.events).length > 0).map((v) => v.environment);
  if (again.length === 0) return first;
  const second = await round(
    again.map((environment) => ({ environment, dnsAnswers: names })),
    2,
  );
  return [...first, ...second];
}

type Seqd = { seq: number[] };

/** The report's evidence references moved by `offset` (its run's events follow earlier runs'). */
function shiftReport(report: BehaviourReport, offset: number): BehaviourReport {
  const shift = <T extends Seqd>(list: T[]): T[] =>
    list.map((x) => ({ ...x, seq: x.seq.map((s) => s + offset) }));
  return {
    ...report,
    processes: shift(report.processes),
    files: shift(report.files),
    dns: shift(report.dns),
    connections: shift(report.connections),
    http: shift(report.http),
    honeytokenHits: shift(report.honeytokenHits),
    decoys: shift(report.decoys),
    browser: shift(report.browser),
    ...(report.lateActivity ? { lateActivity: shift(report.lateActivity) } : {}),
  };
}

/** The same entry from several runs once, with every run's evidence references. */
function union<T extends Seqd>(lists: T[][]): T[] {
  const byKey = new Map<string, T>();
  for (const list of lists)
    for (const entry of list) {
      const key = JSON.stringify({ ...entry, seq: undefined });
      const seen = byKey.get(key);
      if (seen) seen.seq = [...seen.seq, ...entry.seq];
      else byKey.set(key, { ...entry, seq: [...entry.seq] });
    }
  return [...byKey.values()];
}

const atLeastMedium = (f: Finding): boolean => severityRank(f.severity) >= severityRank('medium');

/**
 * Findings one environment's last run raised (medium and above) that the other's did not, by rule; none
 * when a run did not complete.
 */
export function differential(
  finals: { label: string; report: BehaviourReport }[],
  evaluate: (report: BehaviourReport) => Finding[],
): NonNullable<BehaviourReport['differential']> {
  const out: NonNullable<BehaviourReport['differential']> = [];
  // A run that did not complete is no behaviour to compare (its failure holds the package by itself).
  if (finals.some((f) => f.report.status !== 'completed')) return out;
  const findings = finals.map((f) => evaluate(f.report).filter(atLeastMedium));
  finals.forEach((a, i) =>
    finals.forEach((b, j) => {
      if (i === j) return;
      const other = new Set((findings[j] ?? []).map((f) => f.rule));
      for (const f of findings[i] ?? []) {
        if (other.has(f.rule)) continue;
        const seq = f.evidence.flatMap((e) => (e.eventSeq !== undefined ? [e.eventSeq] : []));
        out.push({
          rule: f.rule,
          severity: f.severity,
          message: f.message,
          onlyIn: a.label,
          notIn: b.label,
          seq,
        });
      }
    }),
  );
  return out;
}

/**
 * The variants' runs as one run (events renumbered one run after the other) and one report (the union of
 * the runs' reports, with the environments' differential). `reduce` turns one run into its report.
 */
export function joinVariants(
  runs: VariantRun[],
  reduce: (run: PhaseRun) => BehaviourReport,
  evaluate: (report: BehaviourReport) => Finding[],
): { report: BehaviourReport; run: PhaseRun; timeoutMs: number } {
  const first = runs[0];
  if (!first) throw new Error('joinVariants: no runs');
  if (runs.length === 1) return { report: reduce(first.run), run: first.run, timeoutMs: first.timeoutMs };
  let offset = 0;
  const events: TraceEvent[] = [];
  const reports = runs.map((v) => {
    const report = shiftReport(reduce(v.run), offset);
    for (const e of v.run.events) events.push({ ...e, seq: e.seq + offset });
    offset += v.run.events.length;
    return report;
  });
  // The last round of each environment stands for it; the developer's last round for the whole.
  const lastOf = new Map<EnvironmentVariant, number>();
  runs.forEach((v, i) => lastOf.set(v.environment, i));
  const canonicalIndex = lastOf.get('developer') ?? runs.length - 1;
  const canonical = runs[canonicalIndex] as VariantRun;
  const base = reports[canonicalIndex] as BehaviourReport;
  const failed = runs.find((v) => v.run.status === 'error');
  const finals = [...lastOf.values()].map((i) => ({
    label: (runs[i] as VariantRun).label,
    report: reports[i] as BehaviourReport,
  }));
  const diff = finals.length > 1 ? differential(finals, evaluate) : [];
  const pick = <T extends Seqd>(get: (r: BehaviourReport) => T[]): T[] => union(reports.map(get));
  const late = reports.flatMap((r) => r.lateActivity ?? []);
  const report: BehaviourReport = {
    ...base,
    ...(failed ? { status: 'error', error: `${failed.label}: ${failed.run.error ?? 'the run failed'}` } : {}),
    durationMs: runs.reduce((sum, v) => sum + v.run.durationMs, 0),
    processes: pick((r) => r.processes),
    files: pick((r) => r.files),
    dns: pick((r) => r.dns),
    connections: pick((r) => r.connections),
    http: pick((r) => r.http),
    honeytokenHits: pick((r) => r.honeytokenHits),
    decoys: pick((r) => r.decoys),
    browser: pick((r) => r.browser),
    ...(base.lateActivity || late.length > 0 ? { lateActivity: late } : {}),
    variants: runs.map((v) => v.label),
    ...(diff.length > 0 ? { differential: diff } : {}),
  };
  const run: PhaseRun = {
    ...canonical.run,
    ...(failed ? { status: 'error', error: report.error } : {}),
    durationMs: report.durationMs,
    events,
    honeytokens: runs.flatMap((v) => v.run.honeytokens),
    details: runs.flatMap((v) => [
      `variant ${v.label}: ${v.run.status}${v.run.exitCode !== undefined ? ` (exit ${v.run.exitCode})` : ''}, ${v.run.events.length} events`,
      ...v.run.details.slice(0, 6),
    ]),
  };
  return { report, run, timeoutMs: Math.max(...runs.map((v) => v.timeoutMs)) };
}
