import { byFile, evidenceOf, fileHas } from './evidence.js';
import type { Rule, RuleHit } from './types.js';

/**
 * The chalk / debug shape (September 2025): obfuscated code in a loaded file that also hooks the
 * page's `fetch` / `XMLHttpRequest` / `window.ethereum` or carries a list of wallet addresses.
 * Benign polyfills and SDKs that wrap fetch are not obfuscated; obfuscators do not wrap fetch.
 */
export const obfuscatedBrowserHook: Rule = {
  id: 'obfuscated-browser-hook',
  description: 'Obfuscated code that hooks browser network or wallet APIs',
  evaluate(ctx) {
    const report = ctx.static;
    if (!report) return [];
    const hits: RuleHit[] = [];
    const candidates = report.code.filter(
      (s) =>
        (s.kind === 'browser-hook' || s.kind === 'crypto-address-list') &&
        (s.reach.import || s.reach.install),
    );
    for (const [file] of byFile(candidates)) {
      const obfuscated = fileHas(report, file, 'obfuscation');
      const strongObfuscation = obfuscated.filter((s) => s.strength === 'strong');
      const hooks = fileHas(report, file, 'browser-hook');
      const addresses = fileHas(report, file, 'crypto-address-list');
      const fires =
        strongObfuscation.length > 0
          ? hooks.length + addresses.length > 0
          : obfuscated.length > 0 && hooks.length > 0 && addresses.length > 0;
      if (!fires) continue;
      hits.push({
        rule: this.id,
        severity: 'critical',
        message: `${file} hides code that hooks browser network / wallet APIs (${[...new Set([...hooks, ...addresses].map((s) => s.pattern))].join(', ')})`,
        evidence: evidenceOf([...hooks, ...addresses, ...obfuscated]),
      });
    }
    return hits;
  },
};
