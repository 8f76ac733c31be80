import type { BehaviourReport, Evidence, Severity } from '@secure-registry/shared';
import type { Rule, RuleHit } from '../types.js';
import { egressOf, eventEvidence, firstSeq, isRegistryHost, lastSeq, type Egress } from './helpers.js';

type FileEntry = BehaviourReport['files'][number];

const SENSITIVE = new Set(['honeytoken', 'credentials', 'wallet']);
/** npm / yarn configuration: also where registry, proxy and cache settings live. */
const PACKAGE_MANAGER_CONFIG = /(^|\/)\.(npmrc|yarnrc(\.yml)?)$/;

/** dotenv-style configuration files (`.env`, `.env.local`, `.env.production`, …). */
const ENV_FILE = /(^|\/)\.env(\.[\w-]+)?$/;

function isConfigOnly(reads: FileEntry[]): boolean {
  return reads.every((f) => PACKAGE_MANAGER_CONFIG.test(f.path));
}

/**
 * Only `.env` files, read while the package is loaded (import or browser phase): what a
 * configuration loader does when asked (`dotenv/config`, `config`), not theft by itself.
 */
function isEnvLoadOnly(report: BehaviourReport, reads: FileEntry[]): boolean {
  return report.phase !== 'install' && reads.every((f) => ENV_FILE.test(f.path));
}

/**
 * Reads of credential, wallet or honeytoken files, judged by what followed in the same phase:
 *
 * - keys, cloud credentials, git tokens, wallets, `.env`: any later egress `critical`; alone `high`,
 *   except `.env` files alone read at import or in the browser phase (a configuration loader such
 *   as `dotenv/config` does that when asked): `medium` without later egress.
 * - only npm/yarn configuration (`.npmrc`: registry and proxy settings; prebuild-install and other
 *   downloaders read it through `rc`): `medium` when data was then sent somewhere other than the
 *   registry (a POST body, raw TCP), `low` otherwise. The token itself leaving is
 *   `honeytoken-egress`'s critical.
 */
export const credentialReadThenEgress: Rule = {
  id: 'credential-read-then-egress',
  description: 'Credential or wallet files read, and what was sent afterwards',
  evaluate(ctx) {
    const hits: RuleHit[] = [];
    for (const report of ctx.behaviour) {
      const reads = report.files.filter((f) => f.op === 'read' && SENSITIVE.has(f.class));
      if (reads.length === 0) continue;
      const configOnly = isConfigOnly(reads);
      const firstRead = Math.min(...reads.map(firstSeq));
      const after = egressOf(report).filter((e) => lastSeq(e) > firstRead);
      const relevant: Egress[] = configOnly ? after.filter((e) => e.sent && !isRegistryHost(e.host)) : after;
      const severity: Severity = configOnly
        ? relevant.length > 0
          ? 'medium'
          : 'low'
        : relevant.length > 0
          ? 'critical'
          : isEnvLoadOnly(report, reads)
            ? 'medium'
            : 'high';
      const paths = [...new Set(reads.map((f) => f.path))];
      const shown = paths.slice(0, 4).join(', ') + (paths.length > 4 ? ` and ${paths.length - 4} more` : '');
      const evidence: Evidence[] = [
        ...reads
          .slice(0, 5)
          .map((f) => eventEvidence(report, f, { path: f.path, detail: `read (${f.class})` })),
        ...relevant
          .slice(0, 3)
          .map((e) => eventEvidence(report, e, { excerpt: e.excerpt, detail: `then ${e.channel} egress` })),
      ];
      const hosts = [...new Set(relevant.map((e) => e.host))].slice(0, 3).join(', ');
      hits.push({
        rule: this.id,
        severity,
        message: configOnly
          ? `${report.phase}: reads npm configuration (${shown})${relevant.length > 0 ? ` and then sends data to ${hosts}` : ''}`
          : `${report.phase}: reads credential or wallet files (${shown})${relevant.length > 0 ? ` and then contacts ${hosts}` : ''}`,
        evidence,
      });
    }
    return hits;
  },
};
