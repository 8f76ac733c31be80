export { evaluateArtifact, type EvaluateInput, type Evaluation } from './engine.js';
export { RULES, RULES_REVISION, RULE_SET_VERSION, ruleSetVersionOf } from './registry.js';
export {
  activeExceptions,
  DEFAULT_POLICY,
  parsePolicy,
  Policy,
  PolicyException,
  policyVersion,
} from './policy.js';
export type { Rule, RuleContext, RuleHit } from './types.js';
