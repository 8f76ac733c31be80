import type { BehaviourReport, Evidence, Severity } from '@secure-registry/shared';
import type { Rule, RuleHit } from '../types.js';
import { eventEvidence, MAX_EVIDENCE } from './helpers.js';

const HEX = /^[0-9a-f]{16,63}$/i;
const BASE32 = /^[a-z2-7]{24,63}$/i;
/** Base64url-ish: long, mixed case and digits (CDN hashes are lower-case hex or base36). */
const BASE64ISH = /^(?=.*[A-Z])(?=.*[a-z])(?=.*\d)[A-Za-z0-9_-]{24,63}$/;
const MANY_SUBDOMAINS = 8;

/** The registrable part used to group names (the last two labels; enough for tunnelling shapes). */
function domainOf(name: string): string {
  return name.toLowerCase().replace(/\.$/, '').split('.').slice(-2).join('.');
}

function printable(bytes: Buffer): boolean {
  return bytes.length >= 6 && [...bytes].every((b) => b === 9 || b === 10 || (b >= 0x20 && b < 0x7f));
}

function base32Decode(text: string): Buffer {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz234567';
  let bits = 0;
  let value = 0;
  const out: number[] = [];
  for (const c of text.toLowerCase()) {
    value = (value << 5) | alphabet.indexOf(c);
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

interface Shape {
  encoded: boolean;
  decodesToText: boolean;
}

function labelShape(label: string): Shape {
  if (HEX.test(label) && label.length % 2 === 0)
    return { encoded: true, decodesToText: printable(Buffer.from(label, 'hex')) };
  if (HEX.test(label)) return { encoded: true, decodesToText: false };
  if (BASE32.test(label) && /[2-7]/.test(label))
    return { encoded: true, decodesToText: printable(base32Decode(label)) };
  if (BASE64ISH.test(label)) {
    const decoded = Buffer.from(label.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
    return { encoded: true, decodesToText: printable(decoded) };
  }
  return { encoded: false, decodesToText: false };
}

/**
 * Data smuggled in DNS names: long hex / base32 / base64 labels, or many different subdomains of one
 * domain (dependency-confusion beacons send hostname, user and cwd this way). `high`; `critical`
 * when the labels decode to text (data, not a hash).
 */
export const dnsTunnelling: Rule = {
  id: 'dns-tunnelling',
  description: 'DNS names shaped like encoded data, or many unique subdomains of one domain',
  evaluate(ctx) {
    const hits: RuleHit[] = [];
    for (const report of ctx.behaviour) {
      const byDomain = new Map<string, BehaviourReport['dns']>();
      for (const d of report.dns)
        byDomain.set(domainOf(d.name), [...(byDomain.get(domainOf(d.name)) ?? []), d]);
      for (const [domain, entries] of byDomain) {
        const names = [...new Set(entries.map((d) => d.name.toLowerCase()))];
        const encoded = entries.filter((d) =>
          d.name
            .split('.')
            .slice(0, -2)
            .some((l) => labelShape(l).encoded),
        );
        const text = entries.filter((d) =>
          d.name
            .split('.')
            .slice(0, -2)
            .some((l) => labelShape(l).decodesToText),
        );
        const many = names.length >= MANY_SUBDOMAINS;
        if (encoded.length === 0 && !many) continue;
        const severity: Severity = text.length > 0 ? 'critical' : 'high';
        const shown = (encoded.length > 0 ? encoded : entries).slice(0, MAX_EVIDENCE);
        const evidence: Evidence[] = shown.map((d) =>
          eventEvidence(report, d, { excerpt: `${d.qtype} ${d.name}`, detail: 'DNS query' }),
        );
        const decoded = text[0] ? decodedExcerpt(text[0].name) : undefined;
        hits.push({
          rule: this.id,
          severity,
          message: `${report.phase}: ${names.length} DNS name${names.length === 1 ? '' : 's'} under ${domain} ${
            text.length > 0
              ? `carry encoded text${decoded ? ` ("${decoded}")` : ''}`
              : encoded.length > 0
                ? 'with encoded-looking labels'
                : 'with many unique subdomains'
          }`,
          evidence,
        });
      }
    }
    return hits;
  },
};

function decodedExcerpt(name: string): string | undefined {
  for (const label of name.split('.')) {
    if (HEX.test(label) && label.length % 2 === 0) {
      const bytes = Buffer.from(label, 'hex');
      if (printable(bytes)) return bytes.toString('latin1').slice(0, 60);
    }
  }
  return undefined;
}
