import type { StaticReport } from '@secure-registry/analyzer';
import type { BehaviourReport, Finding } from '@secure-registry/shared';
import type { Policy } from './policy.js';

/** Everything a rule may look at. Rules are pure: same context, same findings. */
export interface RuleContext {
  name: string;
  version: string;
  static?: StaticReport;
  behaviour: BehaviourReport[];
  policy: Policy;
  now: Date;
}

/**
 * A rule's hit. `hold` asks for a person's review regardless of the severity thresholds (used by
 * policy-driven rules such as the minimum release age and by fail-closed analysis errors).
 */
export interface RuleHit extends Finding {
  hold?: boolean;
}

export interface Rule {
  id: string;
  description: string;
  evaluate(ctx: RuleContext): RuleHit[];
}
