import type { StaticReport } from '@secure-registry/analyzer';
import { BehaviourReport } from '@secure-registry/shared';
import type { Finding } from '@secure-registry/shared';
import { evaluateArtifact } from '../rules/engine.js';
import type { LoadedPolicy } from '../rules/policy-file.js';
import { resolveLlmPolicy } from '../rules/policy.js';
import type { Policy } from '../rules/policy.js';
import type { InvestigationRecord } from './investigator.js';
import { applyOpinion } from './opinion.js';
import type { AppliedVerdict } from './opinion.js';

/** `reports.decision`: which rule set and policy produced the stored verdict. */
export interface DecisionStamp {
  ruleSetVersion: string;
  policyVersion: string;
  policySource: string;
  evaluatedAt: string;
}

export interface RuleDecision {
  verdict: AppliedVerdict;
  reason: string | undefined;
  findings: Finding[];
  ruleSetVersion: string;
  stamp: DecisionStamp;
}

function staticReportOf(reports: Record<string, unknown>): StaticReport | undefined {
  const candidate = reports.static as { schemaVersion?: unknown } | undefined;
  return candidate && typeof candidate === 'object' && candidate.schemaVersion === 1
    ? (candidate as StaticReport)
    : undefined;
}

/** Behaviour reports stored under any stage key (a report or a list of reports per key). */
export function behaviourReportsOf(reports: Record<string, unknown>): BehaviourReport[] {
  const out: BehaviourReport[] = [];
  for (const [key, value] of Object.entries(reports)) {
    if (key === 'static' || key === 'llm' || key === 'decision') continue;
    for (const item of Array.isArray(value) ? value : [value]) {
      const parsed = BehaviourReport.safeParse(item);
      if (parsed.success) out.push(parsed.data);
    }
  }
  return out;
}

/**
 * Re-runs the rule set on stored reports under a policy, without touching the sandbox or the
 * network. Undefined when there is nothing to evaluate (no static report: the artifact was never
 * analysed, e.g. an integrity failure or an analysis error; its verdict stands).
 */
export function decideFromReports(input: {
  name: string;
  version: string;
  reports: Record<string, unknown>;
  policy: LoadedPolicy;
  now?: Date;
}): RuleDecision | undefined {
  const staticReport = staticReportOf(input.reports);
  if (!staticReport) return undefined;
  const evaluation = evaluateArtifact({
    name: input.name,
    version: input.version,
    static: staticReport,
    behaviour: behaviourReportsOf(input.reports),
    policy: input.policy.policy,
    ...(input.now ? { now: input.now } : {}),
  });
  const undecided = evaluation.verdict === 'pending';
  return {
    verdict: undecided ? 'review' : (evaluation.verdict as AppliedVerdict),
    reason: undecided ? (evaluation.reason ?? 'the rules reached no decision') : evaluation.reason,
    findings: evaluation.findings,
    ruleSetVersion: evaluation.ruleSetVersion,
    stamp: {
      ruleSetVersion: evaluation.ruleSetVersion,
      policyVersion: evaluation.policyVersion,
      policySource: input.policy.source,
      evaluatedAt: (input.now ?? new Date()).toISOString(),
    },
  };
}

/** Whether a stored static report lists install scripts. */
export function hasInstallScripts(reports: Record<string, unknown>): boolean {
  return (staticReportOf(reports)?.installScripts.length ?? 0) > 0;
}

function opinionFinding(record: InvestigationRecord): Finding {
  const evidence = [
    {
      kind: 'metadata' as const,
      detail: `${record.reviewer}: ${record.steps} steps, ${record.tokens.total} tokens`,
      ...(record.opinion ? { excerpt: record.opinion.evidence.join(', ').slice(0, 2000) } : {}),
    },
  ];
  if (record.outcome === 'opinion' && record.opinion) {
    const { decision, rationale } = record.opinion;
    return {
      rule: 'llm-opinion',
      severity: decision === 'reject' ? 'high' : decision === 'escalate' ? 'medium' : 'info',
      message: `LLM reviewer ${record.model}: ${decision} — ${rationale}`.slice(0, 1000),
      evidence,
    };
  }
  return {
    rule: 'llm-opinion',
    severity: 'medium',
    message: `LLM reviewer ${record.model} gave no opinion (${record.outcome}): ${record.error ?? ''}`.slice(
      0,
      1000,
    ),
    evidence,
  };
}

/**
 * The verdict after an investigation, under the policy: an opinion is applied by `applyOpinion`;
 * no opinion (malformed, refused, timeout, budget, error) keeps the package held — and holds a
 * package the rules approved, unless the policy fails open.
 */
export function combineWithInvestigation(
  decision: { verdict: AppliedVerdict; reason: string | undefined; findings: Finding[] },
  record: InvestigationRecord,
  policy: Policy,
): { verdict: AppliedVerdict; reason: string | undefined; findings: Finding[] } {
  const findings = [...decision.findings.filter((f) => f.rule !== 'llm-opinion'), opinionFinding(record)];
  if (record.outcome === 'opinion' && record.opinion) {
    const applied = applyOpinion({
      ruleVerdict: decision.verdict,
      opinion: record.opinion,
      policy: resolveLlmPolicy(policy),
      model: record.model,
    });
    return { verdict: applied.verdict, reason: applied.reason ?? decision.reason, findings };
  }
  if (decision.verdict === 'approved' && policy.onError === 'fail-closed') {
    return {
      verdict: 'review',
      reason: `held: the LLM review of its install scripts gave no opinion (${record.outcome})`,
      findings,
    };
  }
  return { verdict: decision.verdict, reason: decision.reason, findings };
}
