import type { CodeSignal } from '@secure-registry/analyzer';
import type { Severity } from '@secure-registry/shared';
import { byFile, evidenceOf, fileHas, fileList, signalsOf } from './evidence.js';
import type { Rule, RuleHit } from './types.js';

/**
 * References to credential and wallet locations, per file, by where the file runs:
 *
 * - At install, keys, cloud credentials, git tokens or wallets: `high`, `critical` when the same
 *   file can also send data (read-then-egress). `~/.npmrc` alone, without network code in the same
 *   file, is `medium`: it is also where registry and proxy settings live, and package managers and
 *   monorepo tools (nx) read it at install.
 * - At import, packages legitimately read configuration (AWS SDKs read ~/.aws, bundled CLIs read
 *   ~/.npmrc): `low`; with network code in the same file `medium` for one kind of credential and
 *   `high` for several (a stealer sweeps keys, tokens and wallets; a config reader wants one file).
 * - Files nothing runs: not reported. The sandbox phases see what is actually read and sent.
 */
function severityFor(signals: CodeSignal[], network: boolean): Severity {
  const kinds = new Set(signals.map((s) => s.pattern));
  const reach = signals[0]!.reach;
  if (reach.install) {
    if (network) return 'critical';
    return kinds.size === 1 && kinds.has('npmrc') ? 'medium' : 'high';
  }
  if (!network) return 'low';
  return kinds.size >= 2 ? 'high' : 'medium';
}

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
      hits.push({
        rule: this.id,
        severity: severityFor(signals, network.length > 0),
        message: `${fileList([file])} (run at ${first.reach.install ? 'install' : 'import'}) references credential locations (${what})${network.length > 0 ? ' and can send data over the network' : ''}`,
        evidence: evidenceOf([...signals, ...network.slice(0, 2)]),
      });
    }
    return hits;
  },
};
