import type { Rule, RuleHit } from '../types.js';

/**
 * A sandbox phase that timed out, crashed or could not run. What it would have done is unknown, so
 * it is never clean: `high` and held for a person under fail-closed (the default); `info` under
 * fail-open. A completed run with a non-zero exit (a missing dependency, an unsupported platform)
 * is a fact about the package, not a failure, and does not fire.
 */
export const sandboxFailure: Rule = {
  id: 'sandbox-failure',
  description: 'A sandbox phase timed out, crashed or failed to run',
  evaluate(ctx) {
    const closed = ctx.policy.onError === 'fail-closed';
    const hits: RuleHit[] = [];
    for (const report of ctx.behaviour) {
      if (report.status === 'completed') continue;
      const what =
        report.status === 'timeout' ? 'timed out' : report.status === 'crashed' ? 'crashed' : 'could not run';
      hits.push({
        rule: this.id,
        severity: closed ? 'high' : 'info',
        message: `${report.phase} phase ${what}${closed ? '; held for review (fail closed)' : '; ignored by policy (fail open)'}`,
        evidence: [
          {
            kind: 'metadata',
            detail: `${report.phase} phase ${report.status} after ${Math.round(report.durationMs)} ms`,
            ...(report.error !== undefined ? { excerpt: report.error.slice(0, 500) } : {}),
          },
        ],
        hold: closed,
      });
    }
    return hits;
  },
};
