import type { Rule } from './types.js';

/** How an implicit install script is named in evidence (npm adds it for a binding.gyp). */
export const IMPLICIT_DETAIL = 'implicit install script (node-gyp rebuild, binding.gyp)';

/**
 * Having an install script is common and mostly benign (`node install.js`, `node-gyp rebuild`,
 * banners): recorded as `low` so people can see it; what the script does is judged elsewhere.
 */
export const installScript: Rule = {
  id: 'install-script',
  description: 'The package runs a lifecycle script at install',
  evaluate(ctx) {
    const scripts = ctx.static?.installScripts ?? [];
    if (scripts.length === 0) return [];
    return [
      {
        rule: this.id,
        severity: 'low',
        message: `runs at install: ${scripts.map((s) => (s.implicit ? IMPLICIT_DETAIL : `${s.event}: ${s.command}`.slice(0, 120))).join('; ')}`,
        evidence: scripts.map((s) => ({
          kind: 'metadata' as const,
          detail: s.implicit ? IMPLICIT_DETAIL : `scripts.${s.event}`,
          excerpt: s.command.slice(0, 200),
        })),
      },
    ];
  },
};
