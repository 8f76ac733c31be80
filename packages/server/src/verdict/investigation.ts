import type { Finding, InvestigationRecord } from '@secure-registry/shared';
import { resolveLlmPolicy, type Policy } from '../rules/policy.js';
import { applyOpinion, type AppliedVerdict } from '../reviewers/opinion.js';

/** The investigation as a finding (`llm-opinion`): what the model said, or that it said nothing. */
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
 * The rules' verdict with an investigation on top, under the policy: an opinion is applied by
 * `applyOpinion`; no opinion (malformed, refused, timeout, budget, error) keeps the package held —
 * and holds a package the rules approved, unless the policy fails open.
 */
export function withInvestigation(
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
