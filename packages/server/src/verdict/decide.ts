// The one place a verdict is made. Rules × policy over what the stages reported, then the opinions
// on top: the LLM investigator's (as far as the policy lets it decide) and a person's (final). Called
// after analysis (pipeline/run-pipeline.ts), after an investigation (reviewers/llm-reviewer.ts),
// after a review decision (services/review-service.ts) and by `reevaluate` — nowhere else.
import type {
  AdvisoryRecord,
  ArtifactReports,
  DecisionStamp,
  Finding,
  InvestigationRecord,
  ReviewDecisionKind,
} from '@secure-registry/shared';
import {
  behaviourReportsOf,
  BugError,
  STORAGE_FULL_RULE,
  UPSTREAM_UNAVAILABLE_RULE,
} from '@secure-registry/shared';
import { evaluateArtifact, type RuleSet } from '../rules/engine.js';
import type { LoadedPolicy } from '../rules/policy-file.js';
import type { AppliedVerdict } from '../reviewers/opinion.js';
import { withInvestigation } from './investigation.js';

export interface Decision {
  verdict: AppliedVerdict;
  reason: string | undefined;
  findings: Finding[];
  /** The rule set that judged the reports; undefined when no rule ran (integrity, failure, a person). */
  ruleSetVersion: string | undefined;
  /** Stored as `reports.decision` when the rules ran. */
  stamp: DecisionStamp | undefined;
}

/** A person's decision (reviewer or admin role): it sets the verdict, on the findings they were shown. */
export interface PersonOpinion {
  decision: ReviewDecisionKind;
  reviewer: string;
  reason: string;
}

export type DecideInput =
  | {
      reports: ArtifactReports;
      /** Needed whenever there is a static report to judge (not for an integrity or analysis failure). */
      name?: string;
      version?: string;
      policy?: LoadedPolicy;
      /** The rule set; the full one by default (a stand-in analyzer in tests brings its own). */
      ruleSet?: RuleSet | undefined;
      /** The LLM investigation to apply on top of the rules. */
      llm?: InvestigationRecord | undefined;
      now?: Date;
    }
  | {
      person: PersonOpinion;
      /** The findings on record: what the person decided on. */
      findings: Finding[];
    };

const failureFinding = (attempts: number, message: string): Finding => ({
  rule: 'analysis-failed',
  severity: 'high',
  message: 'the artifact could not be analysed; it is held for review',
  evidence: [{ kind: 'metadata', detail: `attempts: ${attempts}`, excerpt: message.slice(0, 2000) }],
});

/**
 * An analysis the server's infrastructure stopped (the upstream could not be fetched from; its
 * storage was full): not a decision about the package, held and analysed again by the next scan.
 */
const INFRASTRUCTURE_FAILURES = {
  infrastructure: {
    rule: UPSTREAM_UNAVAILABLE_RULE,
    message: 'could not fetch from the upstream registry; not analysed, held until a scan analyses it',
    reason: 'could not fetch from upstream',
  },
  'storage-full': {
    rule: STORAGE_FULL_RULE,
    message: "the server's storage was full; not analysed, held until a scan analyses it",
    reason: 'could not analyse',
  },
} as const;

/** A published advisory names the version as malicious: rejected, whatever the analysis saw. */
function advisoryDecision(advisories: readonly AdvisoryRecord[]): Decision {
  const ids = advisories.map((advisory) => advisory.id).join(', ');
  return {
    verdict: 'rejected',
    reason: `known malicious: ${ids} (${advisories[0]?.summary ?? 'published advisory'})`,
    findings: advisories.map((advisory) => ({
      rule: 'known-malicious',
      severity: 'critical',
      message: `a published advisory names this version as malicious: ${advisory.id}: ${advisory.summary}`,
      evidence: [
        {
          kind: 'metadata',
          detail: `${advisory.id} from ${advisory.source}${advisory.modified ? ` (modified ${advisory.modified})` : ''}`,
          ...(advisory.aliases?.length ? { excerpt: `aliases: ${advisory.aliases.join(', ')}` } : {}),
        },
      ],
    })),
    ruleSetVersion: undefined,
    stamp: undefined,
  };
}

/** What a verdict is made of: the reports under the rules, or what stopped the analysis. */
function judge(input: Extract<DecideInput, { reports: ArtifactReports }>): Decision {
  const { reports } = input;
  if (reports.advisories?.length) return advisoryDecision(reports.advisories);
  if (reports.integrity) {
    const { findings, tarballUrl } = reports.integrity;
    const mismatch = findings.some((finding) => finding.rule === 'integrity-mismatch');
    return {
      verdict: mismatch ? 'rejected' : 'review',
      reason: mismatch
        ? `the tarball from ${tarballUrl} does not match the expected integrity`
        : 'upstream gives no integrity to verify the tarball against',
      findings,
      ruleSetVersion: undefined,
      stamp: undefined,
    };
  }
  // Fail closed: an analysis that did not finish is never an approval. (A row stored before typed
  // reports may hold a stale `failure` beside the static report of a later analysis: the static
  // report is the later evidence.)
  if (!reports.static) {
    const attempts = reports.failure?.attempts ?? 0;
    const message = reports.failure?.message ?? 'no static report to judge';
    const kind = reports.failure?.kind;
    if (kind === 'infrastructure' || kind === 'storage-full') {
      const failure = INFRASTRUCTURE_FAILURES[kind];
      return {
        verdict: 'review',
        reason: `${failure.reason}: ${message}`,
        findings: [
          {
            rule: failure.rule,
            severity: 'high',
            message: failure.message,
            evidence: [
              { kind: 'metadata', detail: `attempts: ${attempts}`, excerpt: message.slice(0, 2000) },
            ],
          },
        ],
        ruleSetVersion: undefined,
        stamp: undefined,
      };
    }
    return {
      verdict: 'review',
      reason: `analysis failed after ${attempts} attempt${attempts === 1 ? '' : 's'}: ${message}`,
      findings: [failureFinding(attempts, message)],
      ruleSetVersion: undefined,
      stamp: undefined,
    };
  }
  const { name, version, policy } = input;
  if (name === undefined || version === undefined || !policy)
    throw new BugError(
      'ERR_SR_DECIDE',
      'decide() needs the name, version and policy to judge a static report',
    );
  const now = input.now ?? new Date();
  const evaluation = evaluateArtifact({
    name,
    version,
    static: reports.static,
    behaviour: behaviourReportsOf(reports),
    policy: policy.policy,
    now,
    ...(input.ruleSet ? { ruleSet: input.ruleSet } : {}),
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
      policySource: policy.source,
      evaluatedAt: now.toISOString(),
    },
  };
}

/**
 * The verdict: a person's decision when there is one (final); else a published advisory (rejected);
 * else the rules over the reports under the policy (an integrity failure rejects or holds, an
 * analysis that did not finish holds), with the LLM investigation applied on top as far as the
 * policy allows.
 */
export function decide(input: DecideInput): Decision {
  if ('person' in input) {
    const verdict = input.person.decision === 'approve' ? 'approved' : 'rejected';
    return {
      verdict,
      reason: `${verdict} by ${input.person.reviewer}: ${input.person.reason}`,
      findings: input.findings,
      ruleSetVersion: undefined,
      stamp: undefined,
    };
  }
  const judged = judge(input);
  // No investigation argues a published advisory away; only a person's decision replaces it.
  if (!input.llm || input.reports.advisories?.length) return judged;
  if (!input.policy)
    throw new BugError('ERR_SR_DECIDE', 'decide() needs the policy to apply an investigation');
  return { ...judged, ...withInvestigation(judged, input.llm, input.policy.policy) };
}
