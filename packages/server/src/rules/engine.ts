import {
  type BehaviourReport,
  type Finding,
  severityRank,
  type StaticReport,
  type Verdict,
} from '@secure-registry/shared';
import { activeExceptions, DEFAULT_POLICY, type Policy, policyVersion } from './policy.js';
import { RULE_SET_VERSION, RULES } from './registry.js';
import type { Rule, RuleContext, RuleHit } from './types.js';

export interface EvaluateInput {
  name: string;
  version: string;
  static?: StaticReport;
  behaviour?: BehaviourReport[];
  policy?: Policy;
  now?: Date;
  /** The rules to run; the full rule set by default (tests pass subsets). */
  rules?: readonly Rule[];
  /** The rules to run under their own version (a stand-in rule set); overrides `rules`. */
  ruleSet?: RuleSet;
}

/** A set of rules with the version recorded with the verdicts it produced. */
export interface RuleSet {
  version: string;
  rules: readonly Rule[];
}

export interface Evaluation {
  verdict: Verdict;
  findings: Finding[];
  /** The message of the finding that decided a non-approved verdict. */
  reason?: string;
  ruleSetVersion: string;
  policyVersion: string;
}

/** Findings that exceptions can never waive: fail closed means an error is never an approval. */
const UNWAIVABLE = new Set(['analysis-error', 'extraction-limits', 'sandbox-failure', 'rule-error']);

function runRule(rule: Rule, ctx: RuleContext): RuleHit[] {
  try {
    return rule
      .evaluate(ctx)
      .map((hit) => ({ ...hit, rule: hit.rule || rule.id, evidence: hit.evidence ?? [] }));
  } catch (error) {
    const closed = ctx.policy.onError === 'fail-closed';
    return [
      {
        rule: 'rule-error',
        severity: closed ? 'high' : 'info',
        message: `rule ${rule.id} failed: ${error instanceof Error ? error.message : String(error)}`.slice(
          0,
          300,
        ),
        evidence: [],
        hold: closed,
      },
    ];
  }
}

function compareHits(a: RuleHit, b: RuleHit): number {
  return (
    severityRank(b.severity) - severityRank(a.severity) ||
    a.rule.localeCompare(b.rule) ||
    a.message.localeCompare(b.message)
  );
}

/**
 * Turns reports into findings and a verdict under a policy. Pure and deterministic: the same
 * input gives the same output (findings sorted by severity, rule id, message).
 */
export function evaluateArtifact(input: EvaluateInput): Evaluation {
  const policy = input.policy ?? DEFAULT_POLICY;
  const now = input.now ?? new Date();
  const ctx: RuleContext = {
    name: input.name,
    version: input.version,
    ...(input.static ? { static: input.static } : {}),
    behaviour: input.behaviour ?? [],
    policy,
    now,
  };
  const hits = (input.ruleSet?.rules ?? input.rules ?? RULES).flatMap((rule) => runRule(rule, ctx));
  const exceptions = activeExceptions(policy, input.name, input.version, now);
  const counted: RuleHit[] = [];
  const findings: RuleHit[] = [];
  for (const hit of hits) {
    const waiver = UNWAIVABLE.has(hit.rule)
      ? undefined
      : exceptions.find((e) => !e.rules || e.rules.includes(hit.rule));
    if (waiver && hit.severity !== 'info') {
      findings.push({
        rule: hit.rule,
        severity: 'info',
        message:
          `waived (${hit.severity}) by exception for ${waiver.package} until ${waiver.expires}: ${waiver.reason} — ${hit.message}`.slice(
            0,
            1000,
          ),
        evidence: hit.evidence,
      });
    } else {
      findings.push(hit);
      counted.push(hit);
    }
  }
  const rejectAt = severityRank(policy.thresholds.rejected);
  const reviewAt = severityRank(policy.thresholds.review);
  const rejecting = counted.filter((h) => severityRank(h.severity) >= rejectAt);
  const holding = counted.filter((h) => h.hold === true || severityRank(h.severity) >= reviewAt);
  const verdict: Verdict = rejecting.length > 0 ? 'rejected' : holding.length > 0 ? 'review' : 'approved';
  const decisive = (verdict === 'rejected' ? rejecting : holding).sort(compareHits)[0];
  return {
    verdict,
    findings: findings
      .sort(compareHits)
      .map(({ rule, severity, message, evidence }) => ({ rule, severity, message, evidence })),
    ...(decisive ? { reason: decisive.message } : {}),
    ruleSetVersion: input.ruleSet?.version ?? (input.rules ? `custom-${RULE_SET_VERSION}` : RULE_SET_VERSION),
    policyVersion: policyVersion(policy),
  };
}
