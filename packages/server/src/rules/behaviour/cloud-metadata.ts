import type { Evidence } from '@secure-registry/shared';
import type { Rule, RuleHit } from '../types.js';
import { eventEvidence, isMetadataHost, MAX_EVIDENCE } from './helpers.js';

/**
 * Contact with a cloud instance metadata service (169.254.169.254, metadata.google.internal, …):
 * the way stolen-credential payloads (Shai-Hulud) reach a CI runner's cloud role. No package needs
 * it at install or import on a developer's machine: `critical`.
 */
export const cloudMetadata: Rule = {
  id: 'cloud-metadata',
  description: 'Contact with a cloud instance metadata service',
  evaluate(ctx) {
    const hits: RuleHit[] = [];
    for (const report of ctx.behaviour) {
      const evidence: Evidence[] = [];
      for (const h of report.http)
        if (isMetadataHost(h.host))
          evidence.push(
            eventEvidence(report, h, { excerpt: `${h.method} ${h.host}${h.path}`, detail: 'HTTP request' }),
          );
      for (const c of report.connections)
        if (isMetadataHost(c.address) || (c.host !== undefined && isMetadataHost(c.host)))
          evidence.push(
            eventEvidence(report, c, {
              excerpt: `connect ${c.address}:${c.port ?? ''}`,
              detail: 'connection',
            }),
          );
      for (const d of report.dns)
        if (isMetadataHost(d.name))
          evidence.push(eventEvidence(report, d, { excerpt: `${d.qtype} ${d.name}`, detail: 'DNS query' }));
      if (evidence.length === 0) continue;
      const what = report.http.find((h) => isMetadataHost(h.host));
      hits.push({
        rule: this.id,
        severity: 'critical',
        message: `${report.phase}: contacts the cloud metadata service${what ? ` (${what.method} ${what.host}${what.path.slice(0, 80)})` : ''}`,
        evidence: evidence.slice(0, MAX_EVIDENCE),
      });
    }
    return hits;
  },
};
