import { RESOLVER_SEARCH_DOMAINS } from '@secure-registry/analyzer';
import { severityRank, type BehaviourReport, type Severity } from '@secure-registry/shared';
import type { Rule, RuleHit } from '../types.js';
import {
  egressOf,
  eventEvidence,
  isMetadataHost,
  isRegistryHost,
  MAX_EVIDENCE,
  type Egress,
} from './helpers.js';

const BINARY_PATH =
  /\.(tar\.gz|tgz|tar\.xz|txz|tar\.bz2|tbz2?|tar\.br|tar\.zst|zip|gz|xz|br|zst|7z|node|exe|dll|so(\.\d+)*|dylib|bin|wasm|deb|rpm|dmg|pkg|msi|jar|whl|appimage)$/i;

function isBinaryPath(path: string | undefined): boolean {
  if (path === undefined) return false;
  const bare = path.split('?')[0] ?? '';
  return BINARY_PATH.test(bare) || /\/releases\/download\//.test(bare);
}

/** A query value long enough to carry data (ids, encoded host or user names). */
function queryCarriesData(path: string | undefined): boolean {
  const query = path?.split('?')[1];
  return query !== undefined && query.split('&').some((kv) => (kv.split('=')[1] ?? '').length >= 16);
}

/** Sensitive reads other than package-manager configuration (which downloaders read for proxies). */
function readSecrets(report: BehaviourReport): boolean {
  return report.files.some(
    (f) =>
      f.op === 'read' &&
      (f.class === 'credentials' || f.class === 'wallet' || f.class === 'honeytoken') &&
      !/(^|\/)\.(npmrc|yarnrc(\.yml)?)$/.test(f.path),
  );
}

/**
 * The name a lookup was made for: `github.com.home` is `github.com` retried by the C library with
 * the sandbox resolver's search domain appended (the name the package used did not resolve), not a
 * host of its own. Only lookups: a connection or request names the host it reached.
 */
function askedName(e: Egress): string {
  const host = e.host.toLowerCase().replace(/\.$/, '');
  if (e.channel !== 'dns') return host;
  for (const domain of RESOLVER_SEARCH_DOMAINS) {
    const stem = host.slice(0, -(domain.length + 1));
    if (stem !== '' && host.endsWith(`.${domain}`)) return stem;
  }
  return host;
}

interface HostVerdict {
  rule: 'install-network' | 'prebuilt-download';
  severity: Severity;
  what: string;
}

function judgeHost(contacts: Egress[], clean: boolean): HostVerdict {
  const http = contacts.filter((e) => e.channel === 'http');
  const tcp = contacts.filter((e) => e.channel === 'tcp');
  const sent = http.some((e) => e.sent || queryCarriesData(e.path));
  if (http.length > 0 && tcp.length === 0 && !sent && clean) {
    const reads = http.every((e) => e.method === 'GET' || e.method === 'HEAD');
    if (
      reads &&
      http.some((e) => isBinaryPath(e.path)) &&
      http.every((e) => e.method === 'HEAD' || isBinaryPath(e.path))
    )
      return { rule: 'prebuilt-download', severity: 'low', what: 'downloads a prebuilt binary' };
  }
  if (sent) return { rule: 'install-network', severity: 'high', what: 'sends data' };
  const rawOdd = tcp.some((e) => e.port !== 80 && e.port !== 443);
  if (rawOdd) return { rule: 'install-network', severity: 'high', what: 'opens a raw TCP connection' };
  if (http.length > 0) return { rule: 'install-network', severity: 'medium', what: 'makes requests' };
  if (tcp.length > 0)
    return { rule: 'install-network', severity: 'medium', what: 'connects (content not visible)' };
  return { rule: 'install-network', severity: 'medium', what: 'looks up the name' };
}

/**
 * Network during install to hosts other than the npm registry (and other than the metadata
 * service, which is `cloud-metadata`'s). Judged per host by what was sent:
 *
 * - a prebuilt-binary download — only GETs of binary-looking paths (archives, `.node`, release
 *   assets), no body, no data in the query, and no secret read or honeytoken sent in the phase —
 *   is evidence of its own kind: `prebuilt-download`, `low` (node-pre-gyp, prebuild-install,
 *   puppeteer, electron);
 * - a request body, data-carrying query or a raw TCP connection to a non-web port: `high`;
 * - other requests, connections and lookups: `medium`.
 */
export const installNetwork: Rule = {
  id: 'install-network',
  description: 'Network access during install (prebuilt-binary downloads reported separately, low)',
  evaluate(ctx) {
    const hits: RuleHit[] = [];
    for (const report of ctx.behaviour) {
      if (report.phase !== 'install') continue;
      const clean = report.honeytokenHits.length === 0 && !readSecrets(report);
      const byHost = new Map<string, Egress[]>();
      for (const e of egressOf(report)) {
        const key = askedName(e);
        if (isRegistryHost(key) || isMetadataHost(key)) continue;
        byHost.set(key, [...(byHost.get(key) ?? []), e]);
      }
      const groups = new Map<string, { verdict: HostVerdict; hosts: string[]; contacts: Egress[] }>();
      for (const [host, contacts] of byHost) {
        const verdict = judgeHost(contacts, clean);
        const key = `${verdict.rule}\0${verdict.severity}\0${verdict.what}`;
        const cur = groups.get(key) ?? { verdict, hosts: [], contacts: [] };
        cur.hosts.push(host);
        cur.contacts.push(
          ...contacts.filter((c) => c.channel !== 'dns' || contacts.every((x) => x.channel === 'dns')),
        );
        groups.set(key, cur);
      }
      for (const { verdict, hosts, contacts } of [...groups.values()].sort(
        (a, b) => severityRank(b.verdict.severity) - severityRank(a.verdict.severity),
      )) {
        const first = contacts[0];
        hits.push({
          rule: verdict.rule,
          severity: verdict.severity,
          message: `install: ${verdict.what} (${hosts.slice(0, 3).join(', ')}${hosts.length > 3 ? ` and ${hosts.length - 3} more` : ''})${first ? `: ${first.label.slice(0, 160)}` : ''}`,
          evidence: contacts
            .slice(0, MAX_EVIDENCE)
            .map((e) =>
              eventEvidence(report, e, { excerpt: e.excerpt, detail: `${e.channel} egress to ${e.host}` }),
            ),
        });
      }
    }
    return hits;
  },
};
