import { byFile, evidenceOf, fileHas, fileList, signalsOf } from './evidence.js';
import type { Rule, RuleHit } from './types.js';

/**
 * References to credential and wallet locations. In code run at install: `high`, `critical` when
 * the same file can also send data (read-then-egress). In import code the package may legitimately
 * read configuration (AWS SDKs read ~/.aws): `low`, `high` with network code in the same file.
 */
export const credentialAccess: Rule = {
  id: 'credential-access',
  description: 'Credential or wallet paths referenced in code reachable at install or import',
  evaluate(ctx) {
    const report = ctx.static;
    if (!report) return [];
    const hits: RuleHit[] = [];
    for (const [file, signals] of byFile(signalsOf(report, 'credential-path'))) {
      const first = signals[0]!;
      if (!first.reach.install && !first.reach.import) continue;
      const network = fileHas(report, file, 'network');
      const what = [...new Set(signals.map((s) => s.pattern))].join(', ');
      const phase = first.reach.install ? 'install' : 'import';
      const severity = first.reach.install
        ? network.length > 0
          ? 'critical'
          : 'high'
        : network.length > 0
          ? 'high'
          : 'low';
      hits.push({
        rule: this.id,
        severity,
        message: `${fileList([file])} (run at ${phase}) references credential locations (${what})${network.length > 0 ? ' and can send data over the network' : ''}`,
        evidence: evidenceOf([...signals, ...network.slice(0, 2)]),
      });
    }
    return hits;
  },
};
