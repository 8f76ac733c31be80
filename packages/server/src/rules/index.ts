export { evaluateArtifact, type EvaluateInput, type Evaluation, type RuleSet } from './engine.js';
export { RULES, RULES_REVISION, RULE_SET_VERSION, ruleSetVersionOf } from './registry.js';
export {
  activeExceptions,
  DEFAULT_POLICY,
  LlmPolicy,
  parsePolicy,
  Policy,
  PolicyException,
  policyVersion,
  resolveLlmPolicy,
} from './policy.js';
export type { Rule, RuleContext, RuleHit } from './types.js';
