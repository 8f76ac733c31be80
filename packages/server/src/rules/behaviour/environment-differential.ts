import type { Severity } from '@secure-registry/shared';
import type { Rule, RuleHit } from '../types.js';
import { MAX_EVIDENCE } from './helpers.js';

/** One step up: evasion is evidence of its own, on top of what the behaviour itself shows. */
const RAISED: Record<Severity, Severity> = {
  info: 'info',
  low: 'low',
  medium: 'high',
  high: 'critical',
  critical: 'critical',
};

/**
 * Behaviour that appeared under one environment variant of a phase and not under the other (a developer's
 * laptop vs a CI runner: ../../pipeline/variant-runs.ts) when that behaviour is outside the expected
 * footprint — another behaviour rule raised it at medium or above in one run only. A package that decides
 * by its surroundings whether to act is hiding something; the finding is one severity step above the
 * behaviour's own. Differences inside the footprint (a hook installer or a prebuilt-binary downloader that
 * skips its work in CI: low or no findings either way) never reach the report's `differential`.
 */
export const environmentDifferential: Rule = {
  id: 'environment-differential',
  description:
    'Behaviour outside the footprint under one environment (developer laptop / CI) and not the other',
  evaluate(ctx) {
    const hits: RuleHit[] = [];
    for (const report of ctx.behaviour) {
      for (const d of report.differential ?? []) {
        hits.push({
          rule: 'environment-differential',
          severity: RAISED[d.severity],
          message: `${report.phase}: only on ${d.onlyIn}, not on ${d.notIn} — ${d.rule}: ${d.message.slice(0, 200)}`,
          evidence: d.seq.slice(0, MAX_EVIDENCE).map((seq) => ({
            kind: 'event' as const,
            eventSeq: seq,
            detail: `${report.phase} phase: ${d.rule} (${d.severity}) under ${d.onlyIn}; absent under ${d.notIn}`,
          })),
        });
      }
    }
    return hits;
  },
};
