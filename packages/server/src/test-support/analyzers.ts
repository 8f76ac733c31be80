import type { RuleSet } from '../rules/engine.js';
import type { Rule, RuleHit } from '../rules/types.js';
import { baseReport } from '../rules/test-support/report.js';
import type { ArtifactAnalyzer } from '../pipeline/types.js';

/** A stand-in rule: `hit` for every package whose name starts with `prefix`. */
export function namePrefixRule(prefix: string, hit: RuleHit): Rule {
  return {
    id: hit.rule,
    description: `test rule: names starting with ${prefix}`,
    evaluate: (ctx) => (ctx.name.startsWith(prefix) ? [hit] : []),
  };
}

/**
 * The stand-in rule set of `namePatternAnalyzer`, judged by the real `decide()`: names starting
 * with `evil` are rejected (critical), `risky` held for review, others approved.
 */
export const NAME_PATTERN_RULES: RuleSet = {
  version: 'test-1',
  rules: [
    namePrefixRule('evil', {
      rule: 'test-evil',
      severity: 'critical',
      message: 'test rule: evil name',
      evidence: [],
    }),
    namePrefixRule('risky', {
      rule: 'test-risky',
      severity: 'medium',
      message: 'test rule: risky name',
      evidence: [],
      hold: true,
    }),
  ],
};

/**
 * A stand-in for the analysis stages in server tests that are about the server itself (queue,
 * scans, events): a static report of the name and version (no analysis) judged by
 * `NAME_PATTERN_RULES`. Counts its calls per `name@version`.
 */
export function namePatternAnalyzer(options: { delayMs?: number } = {}): ArtifactAnalyzer & {
  calls: Map<string, number>;
} {
  const calls = new Map<string, number>();
  return {
    calls,
    ruleSet: NAME_PATTERN_RULES,
    async analyze({ name, version, tarball }) {
      const id = `${name}@${version}`;
      calls.set(id, (calls.get(id) ?? 0) + 1);
      if (options.delayMs) await new Promise((resolve) => setTimeout(resolve, options.delayMs));
      if (tarball.byteLength === 0) throw new Error('empty tarball');
      return { static: baseReport({ name, version }) };
    },
  };
}

export function throwingAnalyzer(message: string): ArtifactAnalyzer & { calls: number } {
  const analyzer = {
    calls: 0,
    async analyze(): Promise<never> {
      analyzer.calls++;
      throw new Error(message);
    },
  };
  return analyzer;
}
