import type { BehaviourReport, Finding } from '@secure-registry/shared';
import { BEHAVIOUR_RULES } from '../rules/behaviour/index.js';
import { evaluateArtifact } from '../rules/engine.js';

/**
 * What the behaviour rules find in one phase's report — evidence, not a verdict. The dynamic stage
 * asks it to choose what to run again (a batched package with a finding is re-run alone) and to
 * compare environments (`except` the environment-differential rule itself).
 */
export function behaviourFindings(input: {
  name: string;
  version: string;
  report: BehaviourReport;
  except?: readonly string[];
}): Finding[] {
  const except = new Set(input.except ?? []);
  return evaluateArtifact({
    name: input.name,
    version: input.version,
    behaviour: [input.report],
    rules: BEHAVIOUR_RULES.filter((rule) => !except.has(rule.id)),
  }).findings;
}
