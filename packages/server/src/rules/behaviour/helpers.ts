// Shared helpers of the behaviour rules: evidence from report entries, what counts as egress, and
// host classes. Pure functions over BehaviourReports.
import type { BehaviourReport, Evidence } from '@secure-registry/shared';
import { clip } from '../evidence.js';

export const MAX_EVIDENCE = 8;

type Entry = { seq: number[] };

/** Event evidence for a report entry: its first event's seq, the phase and a short excerpt. */
export function eventEvidence(
  report: BehaviourReport,
  entry: Entry,
  what: { excerpt?: string; path?: string; detail?: string },
): Evidence {
  const seq = entry.seq[0];
  return {
    kind: 'event',
    ...(seq !== undefined ? { eventSeq: seq } : {}),
    ...(what.path !== undefined ? { path: clip(what.path, 500) } : {}),
    ...(what.excerpt !== undefined ? { excerpt: clip(what.excerpt, 500) } : {}),
    detail: clip(`${report.phase} phase${what.detail ? `: ${what.detail}` : ''}`, 500),
  };
}

export function firstSeq(entry: Entry): number {
  return entry.seq.length > 0 ? Math.min(...entry.seq) : Number.MAX_SAFE_INTEGER;
}

export function lastSeq(entry: Entry): number {
  return entry.seq.length > 0 ? Math.max(...entry.seq) : -1;
}

export function argvText(argv: readonly string[]): string {
  return argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : JSON.stringify(a))).join(' ');
}

/**
 * Hosts of the public npm registries: contacting them during install is what package managers and
 * their fallbacks (esbuild's `npm install` of its platform package) do.
 */
export const REGISTRY_HOSTS: ReadonlySet<string> = new Set([
  'registry.npmjs.org',
  'registry.npmjs.com',
  'registry.yarnpkg.com',
]);

/** Cloud instance metadata services (AWS/Azure/GCP/OCI share the link-local address; Alibaba; ECS). */
export const METADATA_ADDRESSES: ReadonlySet<string> = new Set([
  '169.254.169.254',
  'fd00:ec2::254',
  '100.100.100.200',
  '169.254.170.2',
]);
export const METADATA_NAMES: ReadonlySet<string> = new Set([
  'metadata.google.internal',
  'metadata.goog',
  'metadata',
  'instance-data',
  'instance-data.ec2.internal',
]);

export function isMetadataHost(host: string): boolean {
  const h = host
    .toLowerCase()
    .replace(/\.$/, '')
    .replace(/^\[|\]$/g, '');
  return METADATA_ADDRESSES.has(h) || METADATA_NAMES.has(h);
}

export function isLoopback(address: string): boolean {
  return /^127\./.test(address) || address === '::1' || address === 'localhost' || address === '0.0.0.0';
}

export function isRegistryHost(host: string | undefined): boolean {
  return host !== undefined && REGISTRY_HOSTS.has(host.toLowerCase().replace(/\.$/, ''));
}

const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

/** One way a package reached out: a request, a lookup, or a connection no request explains. */
export interface Egress {
  channel: 'http' | 'dns' | 'tcp';
  /** Host name (or address when no name is known). */
  host: string;
  /** What identifies the contact: `GET host/path`, a DNS name, `address:port`. */
  label: string;
  /** Whether data beyond the request line went out (a body, raw TCP payload). */
  sent: boolean;
  method?: string;
  path?: string;
  /** TCP connections: the destination port. */
  port?: number;
  seq: number[];
  excerpt: string;
}

/**
 * Everything a report shows leaving the sandbox: HTTP requests, DNS lookups, and TCP connections
 * (port > 0, not loopback, not DNS) that no HTTP request accounts for. `port 0` connections are
 * the C library's UDP probes for address selection, not traffic.
 */
export function egressOf(report: BehaviourReport): Egress[] {
  const out: Egress[] = [];
  const httpHosts = new Set(report.http.map((h) => h.host.toLowerCase()));
  for (const h of report.http) {
    const sent = h.bodySha256 !== EMPTY_SHA256 || h.bodyExcerpt.length > 0;
    out.push({
      channel: 'http',
      host: h.host,
      label: `${h.method} ${h.tls ? 'https' : 'http'}://${h.host}${h.path}`,
      sent,
      method: h.method,
      path: h.path,
      seq: h.seq,
      excerpt: `${h.method} ${h.host}${h.path}${h.bodyExcerpt ? ` body: ${h.bodyExcerpt}` : ''}`,
    });
  }
  for (const d of report.dns) {
    out.push({
      channel: 'dns',
      host: d.name,
      label: d.name,
      sent: false,
      seq: d.seq,
      excerpt: `${d.qtype} ${d.name}`,
    });
  }
  for (const c of report.connections) {
    if (!c.port || c.port === 53 || isLoopback(c.address)) continue;
    const host = c.host ?? c.address;
    if ((c.port === 80 || c.port === 443) && (httpHosts.has(host.toLowerCase()) || httpHosts.has(c.address)))
      continue;
    out.push({
      channel: 'tcp',
      host,
      label: `${c.address}:${c.port}${c.host ? ` (${c.host})` : ''}`,
      sent: false,
      port: c.port,
      seq: c.seq,
      excerpt: `connect ${c.address}:${c.port}${c.host ? ` (${c.host})` : ''}`,
    });
  }
  return out;
}

export function executable(argv: readonly string[]): string {
  const first = argv[0] ?? '';
  return first.slice(first.lastIndexOf('/') + 1);
}

export const SHELLS: ReadonlySet<string> = new Set(['sh', 'bash', 'dash', 'zsh', 'ksh', 'ash', 'busybox']);
