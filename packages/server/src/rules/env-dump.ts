import { byFile, evidenceOf, fileHas, fileList, signalsOf } from './evidence.js';
import type { Rule, RuleHit } from './types.js';

/**
 * Environment dumps and host fingerprints (the dependency-confusion beacon). At install:
 * `JSON.stringify(process.env)` is `high`, `critical` with network code in the same file;
 * iterating the environment or fingerprinting the host is common (npm_config_* lookups) and
 * counts only with network code in the same file (`high`). At import, only a full dump together
 * with network code counts (`high`); a dump alone is `low`.
 */
export const envDump: Rule = {
  id: 'env-dump',
  description: 'Environment dumps or host fingerprints in code reachable at install or import',
  evaluate(ctx) {
    const report = ctx.static;
    if (!report) return [];
    const hits: RuleHit[] = [];
    for (const [file, signals] of byFile(signalsOf(report, 'env-dump'))) {
      const first = signals[0]!;
      const network = fileHas(report, file, 'network');
      const dump = signals.some((s) => s.strength === 'strong');
      let severity: RuleHit['severity'] | undefined;
      if (first.reach.install)
        severity = dump
          ? network.length > 0
            ? 'critical'
            : 'high'
          : network.length > 0
            ? 'high'
            : undefined;
      else if (first.reach.import && dump) severity = network.length > 0 ? 'high' : 'low';
      if (!severity) continue;
      const what = dump ? 'dumps the whole environment' : 'collects environment / host details';
      hits.push({
        rule: this.id,
        severity,
        message: `${fileList([file])} (run at ${first.reach.install ? 'install' : 'import'}) ${what}${network.length > 0 ? ' and can send data over the network' : ''}`,
        evidence: evidenceOf([...signals, ...network.slice(0, 2)]),
      });
    }
    return hits;
  },
};
