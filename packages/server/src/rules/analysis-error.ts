import type { Evidence } from '@secure-registry/shared';
import type { Rule } from './types.js';

/**
 * Errors of the static analysis and missing analyses (a sandbox phase that failed is
 * `sandbox-failure`'s, so that one failure makes one finding). Fail closed (the default policy) holds the artifact for
 * a person; fail open records the problem as information only. Exceptions never waive these.
 */
export const analysisError: Rule = {
  id: 'analysis-error',
  description: 'The analysis failed, timed out or is missing',
  evaluate(ctx) {
    const evidence: Evidence[] = [];
    if (!ctx.static && ctx.behaviour.length === 0) {
      evidence.push({ kind: 'metadata', detail: 'no static report and no behaviour report' });
    }
    for (const error of ctx.static?.errors ?? [])
      evidence.push({ kind: 'metadata', detail: 'static', excerpt: error });
    if (evidence.length === 0) return [];
    const closed = ctx.policy.onError === 'fail-closed';
    return [
      {
        rule: this.id,
        severity: closed ? 'high' : 'info',
        message: closed
          ? 'analysis incomplete (error or timeout); held for review (fail closed)'
          : 'analysis incomplete (error or timeout); ignored by policy (fail open)',
        evidence: evidence.slice(0, 5),
        hold: closed,
      },
    ];
  },
};
