import { metadataEvidence } from './evidence.js';
import type { Rule } from './types.js';

const RECENT_HOURS = 72;

/**
 * Release age from the packument's `time`. Compromised versions are usually caught within hours
 * or days, so a recent release is noted (`info`). When the policy sets a minimum age, younger
 * releases (or releases of unknown age) are held for review.
 */
export const releaseAge: Rule = {
  id: 'release-age',
  description: 'How long ago the version was published, against the policy minimum',
  evaluate(ctx) {
    const report = ctx.static;
    if (!report) return [];
    const { ageHours, publishedAt } = report.metadata;
    const min = ctx.policy.minReleaseAgeHours;
    if (ageHours === undefined) {
      if (min <= 0) return [];
      return [
        {
          rule: this.id,
          severity: 'medium',
          message: `release time unknown; policy holds releases younger than ${min}h`,
          evidence: [metadataEvidence(`time["${ctx.version}"]`, 'missing')],
          hold: true,
        },
      ];
    }
    const evidence = [metadataEvidence(`time["${ctx.version}"]`, publishedAt ?? '')];
    if (min > 0 && ageHours < min) {
      return [
        {
          rule: this.id,
          severity: 'medium',
          message: `released ${ageHours}h ago; policy holds releases younger than ${min}h`,
          evidence,
          hold: true,
        },
      ];
    }
    if (ageHours < RECENT_HOURS)
      return [{ rule: this.id, severity: 'info', message: `released ${ageHours}h ago`, evidence }];
    return [];
  },
};
