import type { ArtifactAnalyzer } from '../pipeline/types.js';
import type { LoadedPolicy } from '../rules/policy-file.js';
import { decideFromReports } from './verdict-decision.js';

/**
 * Wraps the analysis stages so the verdict is the rule set's under the configured policy, decided
 * from the stage reports exactly as `reevaluate` decides it later, and stamped (`reports.decision`)
 * with the rule-set and policy versions. Decisions without a static report pass unchanged.
 */
export function withPolicy(analyzer: ArtifactAnalyzer, policy: LoadedPolicy): ArtifactAnalyzer {
  return {
    async analyze(input) {
      const decision = await analyzer.analyze(input);
      const decided = decideFromReports({
        name: input.name,
        version: input.version,
        reports: decision.reports,
        policy,
      });
      if (!decided) return decision;
      return {
        verdict: decided.verdict,
        reason: decided.reason,
        findings: decided.findings,
        reports: { ...decision.reports, decision: decided.stamp },
        ruleSetVersion: decided.ruleSetVersion,
      };
    },
  };
}
