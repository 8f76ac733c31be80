import { IMPLICIT_DETAIL } from './install-script.js';
import type { RuleHit, Rule } from './types.js';

/**
 * An install script that appears (or changes) relative to the previous version. New in a patch
 * release is the worm shape (Shai-Hulud bumps the patch and adds a postinstall): `high`. New in a
 * minor or major release, or an existing script changed in a patch release: `medium`.
 */
export const installScriptNew: Rule = {
  id: 'install-script-new',
  description: 'An install script new (or changed) since the previous version',
  evaluate(ctx) {
    const report = ctx.static;
    if (!report) return [];
    const previous = report.metadata.previousVersion;
    const patch = report.metadata.releaseType === 'patch';
    const hits: RuleHit[] = [];
    for (const script of report.installScripts) {
      const evidence = [
        {
          kind: 'metadata' as const,
          detail: script.implicit ? IMPLICIT_DETAIL : `scripts.${script.event}`,
          excerpt: script.command.slice(0, 200),
        },
        {
          kind: 'metadata' as const,
          detail: 'previous version',
          excerpt: `${previous ?? 'none'} (${report.metadata.releaseType ?? 'unknown'} release)`,
        },
      ];
      if (script.isNew === true) {
        hits.push({
          rule: this.id,
          severity: patch ? 'high' : 'medium',
          message:
            `${script.implicit ? IMPLICIT_DETAIL : `${script.event} script`} is new since ${previous} (${report.metadata.releaseType} release): ${script.command}`.slice(
              0,
              300,
            ),
          evidence,
        });
      } else if (script.previousCommand !== undefined && patch) {
        hits.push({
          rule: this.id,
          severity: 'medium',
          message: `${script.event} script changed in a patch release (was: ${script.previousCommand})`.slice(
            0,
            300,
          ),
          evidence: [
            ...evidence,
            {
              kind: 'metadata',
              detail: `previous scripts.${script.event}`,
              excerpt: script.previousCommand.slice(0, 200),
            },
          ],
        });
      }
    }
    return hits;
  },
};
