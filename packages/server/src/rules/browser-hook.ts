import { evidenceOf, fileList, signalsOf } from './evidence.js';
import type { Rule } from './types.js';

/**
 * Overriding `fetch`, `XMLHttpRequest.prototype.open/send` or `window.ethereum` methods. Polyfills,
 * mocking libraries and error-monitoring SDKs do this openly: `medium` alone; hidden (obfuscated)
 * it is the `obfuscated-browser-hook` rule's `critical`.
 */
export const browserHook: Rule = {
  id: 'browser-hook',
  description: 'Overrides of browser network or wallet APIs',
  evaluate(ctx) {
    const hooks = signalsOf(ctx.static, 'browser-hook').filter((s) => s.strength === 'strong');
    if (hooks.length === 0) return [];
    const files = [...new Set(hooks.map((s) => s.file))];
    const apis = [...new Set(hooks.map((s) => s.pattern))].join(', ');
    return [
      {
        rule: this.id,
        severity: 'medium',
        message: `overrides browser APIs (${apis}) in ${fileList(files)}`,
        evidence: evidenceOf(hooks),
      },
    ];
  },
};
