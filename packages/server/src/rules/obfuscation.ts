import { byFile, evidenceOf, fileList, signalsOf } from './evidence.js';
import type { Rule, RuleHit } from './types.js';

/**
 * Concealment: `_0x` identifiers, escaped text payloads, eval of decoded data, code hidden after
 * long whitespace. Minified bundles match none of these (long lines alone are only a weak sign).
 * Reachable at install or import: `high`; in files nothing loads: `medium`. A very long line in an
 * otherwise readable entry file, alone, is `info`:
 * generated tables and inlined data do that in many popular packages.
 */
export const obfuscation: Rule = {
  id: 'obfuscation',
  description: 'Obfuscated or hidden code',
  evaluate(ctx) {
    const signals = signalsOf(ctx.static, 'obfuscation');
    const hits: RuleHit[] = [];
    const strong = signals.filter((s) => s.strength === 'strong');
    const reached = strong.filter((s) => s.reach.install || s.reach.import);
    const unreached = strong.filter((s) => !s.reach.install && !s.reach.import);
    const patterns = (list: typeof signals): string => [...new Set(list.map((s) => s.pattern))].join(', ');
    if (reached.length > 0) {
      const files = [...byFile(reached).keys()];
      hits.push({
        rule: this.id,
        severity: 'high',
        message: `obfuscated code runs at install or import in ${fileList(files)} (${patterns(reached)})`,
        evidence: evidenceOf(reached),
      });
    }
    if (unreached.length > 0) {
      const files = [...byFile(unreached).keys()];
      hits.push({
        rule: this.id,
        severity: 'medium',
        message: `obfuscated code in ${fileList(files)} (${patterns(unreached)})`,
        evidence: evidenceOf(unreached),
      });
    }
    const weak = signals.filter((s) => s.strength === 'weak' && (s.reach.install || s.reach.import));
    if (weak.length > 0 && reached.length === 0) {
      hits.push({
        rule: this.id,
        severity: 'info',
        message: `very long line in an otherwise readable entry file (${fileList([...byFile(weak).keys()])})`,
        evidence: evidenceOf(weak),
      });
    }
    return hits;
  },
};
