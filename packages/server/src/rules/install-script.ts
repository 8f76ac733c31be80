import type { Rule } from './types.js';

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
        message: `runs at install: ${scripts.map((s) => `${s.event}: ${s.command}`.slice(0, 120)).join('; ')}`,
        evidence: scripts.map((s) => ({
          kind: 'metadata' as const,
          detail: s.implicit ? `implicit ${s.event} (binding.gyp)` : `scripts.${s.event}`,
          excerpt: s.command.slice(0, 200),
        })),
      },
    ];
  },
};
