import { metadataEvidence } from './evidence.js';
import type { Rule } from './types.js';

const ESTABLISHED_DAYS = 365;
const ESTABLISHED_VERSIONS = 5;

/**
 * A name imitating a popular package: `high`. Typosquats are young and short-lived (the registry
 * removes them); a package with a year of history and several releases whose name happens to be
 * close to a popular one is far more often a legitimate neighbour, so it is `medium`.
 */
export const typosquat: Rule = {
  id: 'typosquat',
  description: 'The name imitates a popular package',
  evaluate(ctx) {
    const report = ctx.static;
    const squat = report?.typosquat;
    if (!report || !squat) return [];
    const created = report.metadata.packageCreatedAt
      ? Date.parse(report.metadata.packageCreatedAt)
      : Number.NaN;
    const ageDays = (ctx.now.getTime() - created) / 86_400_000;
    const established = ageDays >= ESTABLISHED_DAYS && report.metadata.versionCount >= ESTABLISHED_VERSIONS;
    return [
      {
        rule: this.id,
        severity: established ? 'medium' : 'high',
        message: `name "${ctx.name}" imitates the popular package "${squat.target}" (${squat.technique})${established ? '; the package is long established' : ''}`,
        evidence: [
          metadataEvidence('name', ctx.name),
          metadataEvidence('imitates', `${squat.target} (${squat.technique})`),
          metadataEvidence(
            'history',
            `${report.metadata.versionCount} versions, created ${report.metadata.packageCreatedAt ?? 'unknown'}`,
          ),
        ],
      },
    ];
  },
};
