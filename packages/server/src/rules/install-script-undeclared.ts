import type { Rule } from './types.js';

/**
 * Manifest confusion: the tarball's package.json runs an install script the registry's metadata
 * for this version does not declare, so tools reading the packument would not see it.
 */
export const installScriptUndeclared: Rule = {
  id: 'install-script-undeclared',
  description: "An install script in the tarball that the registry's manifest does not declare",
  evaluate(ctx) {
    const report = ctx.static;
    const declared = report?.metadata.packumentInstallEvents;
    if (!report || !declared) return [];
    const hidden = report.installScripts.filter((s) => !s.implicit && !declared.includes(s.event));
    if (hidden.length === 0) return [];
    return [
      {
        rule: this.id,
        severity: 'high',
        message: `the tarball runs ${hidden.map((s) => s.event).join(', ')} but the registry metadata declares no such script`,
        evidence: hidden.map((s) => ({
          kind: 'file' as const,
          path: 'package.json',
          detail: `scripts.${s.event}`,
          excerpt: s.command.slice(0, 200),
        })),
      },
    ];
  },
};
