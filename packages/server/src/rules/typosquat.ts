import { metadataEvidence } from './evidence.js';
import type { Rule } from './types.js';

const ESTABLISHED_DAYS = 365;
const ESTABLISHED_VERSIONS = 5;

/**
 * A first release (no lower version in the packument) numbered like a grown version line — major 2
 * or more, or a minor or patch of 10 or more (`4.18.3`, `4.17.22`). New packages start at 0.x or
 * 1.0.x; impersonators copy the version of the package they imitate.
 */
export function copiedVersionLine(version: string, previousVersion: string | undefined): boolean {
  if (previousVersion !== undefined) return false;
  const m = /^v?(\d+)\.(\d+)\.(\d+)/.exec(version);
  if (!m) return false;
  const [major, minor, patch] = [Number(m[1]), Number(m[2]), Number(m[3])];
  return major >= 2 || minor >= 10 || patch >= 10;
}

/**
 * A name imitating a popular package: `high`. Typosquats are young and short-lived (the registry
 * removes them); a package with a year of history and several releases whose name happens to be
 * close to a popular one is far more often a legitimate neighbour, so it is `medium`. A young
 * imitation whose first release copies a grown version line (`expresss@4.18.3` as its first
 * version) impersonates the target's releases too: `critical`.
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
    const copied = !established && copiedVersionLine(ctx.version, report.metadata.previousVersion);
    return [
      {
        rule: this.id,
        severity: established ? 'medium' : copied ? 'critical' : 'high',
        message: `name "${ctx.name}" imitates the popular package "${squat.target}" (${squat.technique})${established ? '; the package is long established' : ''}${copied ? `; its first release is ${ctx.version}, a version line copied rather than grown` : ''}`,
        evidence: [
          metadataEvidence('name', ctx.name),
          metadataEvidence('imitates', `${squat.target} (${squat.technique})`),
          metadataEvidence(
            'history',
            `${report.metadata.versionCount} versions, created ${report.metadata.packageCreatedAt ?? 'unknown'}${report.metadata.previousVersion ? `, previous version ${report.metadata.previousVersion}` : ', no earlier version'}`,
          ),
        ],
      },
    ];
  },
};
