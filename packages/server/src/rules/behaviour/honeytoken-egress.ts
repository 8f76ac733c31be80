import type { BehaviourReport, Evidence, Severity } from '@secure-registry/shared';
import type { Rule, RuleHit } from '../types.js';
import { eventEvidence, isRegistryHost, MAX_EVIDENCE } from './helpers.js';

type Hit = BehaviourReport['honeytokenHits'][number];

const NPM_TOKENS = new Set(['env:NPM_TOKEN', 'file:npmrc']);

/**
 * An npm token sent by an npm client to the npm registry in its `Authorization` header on a read
 * (GET/HEAD): npm does that for every request to a registry it holds a token for (esbuild's install
 * falls back to `npm install` of its platform package). That is the token's intended use, not
 * exfiltration; a write (PUT: publishing) or any other place or destination is.
 */
function isRegistryAuth(report: BehaviourReport, hit: Hit): boolean {
  if (!NPM_TOKENS.has(hit.token) || hit.channel !== 'http') return false;
  if (hit.excerpt.startsWith('[') || !/authorization: bearer npm_\w{16,}/i.test(hit.excerpt)) return false;
  const requests = report.http.filter((h) => h.seq.some((s) => hit.seq.includes(s)));
  return (
    requests.length > 0 &&
    requests.every((h) => isRegistryHost(h.host) && (h.method === 'GET' || h.method === 'HEAD'))
  );
}

/**
 * A planted secret (environment variable or file) seen leaving the sandbox, over HTTP(S), DNS or raw
 * TCP, in any encoding the scanner decodes. Nothing benign sends a developer's secrets away:
 * `critical`, with the destination and the payload excerpt as evidence.
 */
export const honeytokenEgress: Rule = {
  id: 'honeytoken-egress',
  description: 'A honeytoken (planted secret) left the sandbox',
  evaluate(ctx) {
    const hits: RuleHit[] = [];
    for (const report of ctx.behaviour) {
      const byDestination = new Map<string, { severity: Severity; hits: Hit[] }>();
      for (const hit of report.honeytokenHits) {
        const severity: Severity = isRegistryAuth(report, hit) ? 'medium' : 'critical';
        const key = `${severity}\0${hit.channel}\0${hit.destination}`;
        const cur = byDestination.get(key) ?? { severity, hits: [] };
        cur.hits.push(hit);
        byDestination.set(key, cur);
      }
      for (const { severity, hits: group } of byDestination.values()) {
        const first = group[0]!;
        const tokens = [...new Set(group.map((h) => h.token))];
        const evidence: Evidence[] = group.slice(0, MAX_EVIDENCE).map((h) =>
          eventEvidence(report, h, {
            excerpt: h.excerpt,
            detail: `${h.token} over ${h.channel} to ${h.destination}`,
          }),
        );
        hits.push({
          rule: this.id,
          severity,
          message:
            severity === 'critical'
              ? `${report.phase}: honeytoken${tokens.length > 1 ? 's' : ''} ${tokens.join(', ')} sent over ${first.channel} to ${first.destination}`
              : `${report.phase}: npm client authenticated to the npm registry with the planted npm token (${first.destination})`,
          evidence,
        });
      }
    }
    return hits;
  },
};
