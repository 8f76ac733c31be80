import type { Evidence, Severity } from '@secure-registry/shared';
import { signalsOf } from '../evidence.js';
import type { Rule, RuleHit } from '../types.js';
import { eventEvidence, MAX_EVIDENCE } from './helpers.js';

/** The recipient of the transaction the sandbox's page sends through a replaced `window.ethereum`. */
export const PROBE_RECIPIENT = '0x742d35cc6634c0532925a3b844bc454e4438f44e';
const HOOKED = new Set(['fetch', 'XMLHttpRequest', 'WebSocket', 'ethereum']);

/** A transaction the page sent that reached the wallet with another recipient. */
function rewrittenRecipient(detail: string): string | undefined {
  if (!detail.includes('eth_sendTransaction')) return undefined;
  const to = /"to"\s*:\s*"(0x[0-9a-fA-F]{40})"/.exec(detail)?.[1];
  return to !== undefined && to.toLowerCase() !== PROBE_RECIPIENT ? to : undefined;
}

/**
 * The browser phase saw the page's `fetch`, `XMLHttpRequest`, `WebSocket` or `window.ethereum`
 * wrapped or replaced at load time (the chalk/debug payload). `high`; `critical` when the static
 * analysis found obfuscated code that runs at import, or when a transaction the page sent reached
 * the wallet with a different recipient (the payload's purpose, observed).
 */
export const browserHookRuntime: Rule = {
  id: 'browser-hook-runtime',
  description: 'Browser network or wallet APIs wrapped or replaced when the package loads',
  evaluate(ctx) {
    const hits: RuleHit[] = [];
    const obfuscated = signalsOf(ctx.static, 'obfuscation').filter(
      (s) => s.strength === 'strong' && (s.reach.import || s.reach.install),
    );
    for (const report of ctx.behaviour) {
      const hooks = report.browser.filter(
        (b) => HOOKED.has(b.api) && (b.action === 'wrapped' || b.action === 'replaced'),
      );
      if (hooks.length === 0) continue;
      const rewritten = report.browser
        .filter((b) => b.api === 'ethereum' && b.action === 'called')
        .map((b) => ({ b, to: rewrittenRecipient(b.detail) }))
        .filter((x) => x.to !== undefined);
      const severity: Severity = obfuscated.length > 0 || rewritten.length > 0 ? 'critical' : 'high';
      const apis = [...new Set(hooks.map((b) => `${b.api} ${b.action}`))].join(', ');
      const evidence: Evidence[] = [
        ...rewritten.map(({ b, to }) =>
          eventEvidence(report, b, { excerpt: b.detail, detail: `transaction recipient rewritten to ${to}` }),
        ),
        ...hooks.map((b) => eventEvidence(report, b, { excerpt: b.detail, detail: `${b.api} ${b.action}` })),
        ...obfuscated.slice(0, 2).map((s) => ({
          kind: 'file' as const,
          path: s.file,
          line: s.line,
          excerpt: s.excerpt.slice(0, 200),
          detail: `obfuscation: ${s.pattern}`,
        })),
      ].slice(0, MAX_EVIDENCE);
      hits.push({
        rule: this.id,
        severity,
        message: `${report.phase}: ${apis}${rewritten[0] ? `; a transaction's recipient was rewritten to ${rewritten[0].to}` : ''}${obfuscated.length > 0 ? '; the loaded code is obfuscated' : ''}`,
        evidence,
      });
    }
    return hits;
  },
};
