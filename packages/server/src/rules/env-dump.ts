import { byFile, evidenceOf, fileHas, fileList, signalsOf } from './evidence.js';
import type { Rule, RuleContext, RuleHit } from './types.js';

/**
 * Environment dumps and host fingerprints (the dependency-confusion beacon). At install:
 * `JSON.stringify(process.env)` is `high`, `critical` with network code in the same file;
 * iterating the environment or fingerprinting the host is common (npm_config_* lookups) and
 * counts only with network code in the same file (`high`). At import, only a full dump together
 * with network code counts (`high`); a dump alone is `low`.
 *
 * Dynamic evidence outranks the pattern in one case only: a dump reached at import (not install)
 * in a bundle of a MiB or more (a CLI compiled into one file, where `JSON.stringify({…, env:
 * process.env})` hands the environment to a child engine and network code is everywhere), whose
 * import phase completed in the sandbox without any egress or honeytoken hit: `medium` (not held).
 * Signals that are evidence on their own (dropper strings, credential paths, exfiltration
 * endpoints) are other rules' and are not lowered by a quiet run.
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
      const quiet = severity === 'high' && !first.reach.install && quietBundleImport(ctx, file);
      if (quiet) severity = 'medium';
      const what = dump ? 'dumps the whole environment' : 'collects environment / host details';
      hits.push({
        rule: this.id,
        severity,
        message: `${fileList([file])} (run at ${first.reach.install ? 'install' : 'import'}) ${what}${network.length > 0 ? ' and can send data over the network' : ''}${quiet ? `; a ${quiet} bundle whose import ran in the sandbox and sent nothing` : ''}`,
        evidence: evidenceOf([...signals, ...network.slice(0, 2)]),
      });
    }
    return hits;
  },
};

/** The size (`2.3 MiB`) of `file` when it is a bundle whose import ran quietly, else undefined. */
function quietBundleImport(ctx: RuleContext, file: string): string | undefined {
  const bundle = ctx.static?.bundles?.find((b) => b.path === file);
  if (!bundle) return undefined;
  const imports = ctx.behaviour.filter((r) => r.phase === 'import');
  const quiet =
    imports.length > 0 &&
    imports.every(
      (r) =>
        r.status === 'completed' &&
        r.http.length === 0 &&
        r.dns.length === 0 &&
        r.connections.length === 0 &&
        r.honeytokenHits.length === 0,
    );
  return quiet ? `${(bundle.bytes / 1024 / 1024).toFixed(1)} MiB` : undefined;
}
