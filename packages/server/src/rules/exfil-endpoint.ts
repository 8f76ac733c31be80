import { evidenceOf, signalsOf } from './evidence.js';
import type { Rule, RuleHit } from './types.js';

/** Webhooks, request bins, paste sites and tunnels named in code run at install (`high`) or import (`medium`). */
export const exfilEndpoint: Rule = {
  id: 'exfil-endpoint',
  description: 'Known exfiltration endpoints (webhooks, request bins, paste sites) in reachable code',
  evaluate(ctx) {
    const signals = signalsOf(ctx.static, 'network').filter((s) => s.pattern === 'exfil-endpoint');
    const install = signals.filter((s) => s.reach.install);
    const imported = signals.filter((s) => !s.reach.install && s.reach.import);
    const hits: RuleHit[] = [];
    if (install.length > 0)
      hits.push({
        rule: this.id,
        severity: 'high',
        message: 'code run at install names an exfiltration endpoint (webhook, request bin or paste site)',
        evidence: evidenceOf(install),
      });
    if (imported.length > 0)
      hits.push({
        rule: this.id,
        severity: 'medium',
        message: 'code loaded at import names an exfiltration endpoint (webhook, request bin or paste site)',
        evidence: evidenceOf(imported),
      });
    return hits;
  },
};
