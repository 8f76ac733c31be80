// Finding honeytoken values in egress, through the encodings malware uses: URL-encoding, hex,
// base64 (standard and URL-safe, any alignment inside a larger blob, nested: the Nx loot was
// triple base64), base32 and hex split over DNS labels, and reversal.

/** A planted secret (same shape as the sandbox's `Honeytoken`). */
export interface TraceHoneytoken {
  name: string;
  value: string;
  path?: string;
}

export interface TokenMatch {
  /** The honeytoken's name (its value is never repeated in findings). */
  token: string;
  /** The decoding chain that revealed it, e.g. `base64>base64>base64` or `plain`. */
  encoding: string;
  /** Where in the original text the (encoded) value starts. */
  index: number;
}

const MIN_TOKEN = 6;
const MAX_DEPTH = 5;
const MAX_TEXT = 2_000_000;

function base64Variants(value: string): string[] {
  // The same bytes encode differently depending on their offset in the blob: cover the 3 alignments,
  // dropping the characters that depend on unknown neighbouring bytes.
  const bytes = Buffer.from(value, 'utf8');
  const out: string[] = [];
  for (let shift = 0; shift < 3; shift++) {
    const padded = Buffer.concat([Buffer.alloc(shift), bytes]);
    let s = padded.toString('base64').replace(/=+$/, '');
    const lead = [0, 2, 3][shift] as number;
    const tailBits = (padded.length * 8) % 6;
    s = s.slice(lead, tailBits === 0 ? s.length : s.length - 1);
    if (s.length >= MIN_TOKEN) out.push(s, s.replace(/\+/g, '-').replace(/\//g, '_'));
  }
  return out;
}

interface Needle {
  token: string;
  encoding: string;
  text: string;
  lower: boolean;
}

function needlesFor(tokens: readonly TraceHoneytoken[]): Needle[] {
  const out: Needle[] = [];
  for (const t of tokens) {
    if (t.value.length < MIN_TOKEN) continue;
    const v = t.value;
    const rev = [...v].reverse().join('');
    out.push({ token: t.name, encoding: 'plain', text: v, lower: false });
    out.push({ token: t.name, encoding: 'reversed', text: rev, lower: false });
    out.push({ token: t.name, encoding: 'hex', text: Buffer.from(v).toString('hex'), lower: true });
    out.push({
      token: t.name,
      encoding: 'reversed-hex',
      text: Buffer.from(rev).toString('hex'),
      lower: true,
    });
    for (const b of base64Variants(v)) out.push({ token: t.name, encoding: 'base64', text: b, lower: false });
    for (const b of base64Variants(rev))
      out.push({ token: t.name, encoding: 'reversed-base64', text: b, lower: false });
  }
  return out;
}

const printable = (s: string): boolean => {
  if (s.length === 0) return false;
  let ok = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if ((c >= 0x20 && c < 0x7f) || c === 9 || c === 10 || c === 13 || c >= 0xa0) ok++;
  }
  return ok / s.length >= 0.85;
};

function urlDecode(s: string): string {
  return s
    .replace(/\+/g, ' ')
    .replace(/%([0-9a-fA-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
}

const B32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
export function decodeBase32(s: string): string {
  let bits = 0;
  let acc = 0;
  const out: number[] = [];
  for (const ch of s.toUpperCase().replace(/=+$/, '')) {
    const v = B32.indexOf(ch);
    if (v < 0) return '';
    acc = (acc << 5) | v;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out.push((acc >> bits) & 0xff);
    }
  }
  return Buffer.from(out).toString('latin1');
}

/** Finds honeytoken values in `text`; one match per token, the shallowest decoding wins. */
export function findHoneytokens(text: string, tokens: readonly TraceHoneytoken[]): TokenMatch[] {
  const needles = needlesFor(tokens);
  if (needles.length === 0 || text.length === 0) return [];
  const found = new Map<string, TokenMatch>();
  const tokenCount = new Set(needles.map((n) => n.token)).size;
  const visit = (s: string, chain: string[], origin: number | undefined): void => {
    const lower = s.toLowerCase();
    for (const n of needles) {
      if (found.has(n.token)) continue;
      const i = n.lower ? lower.indexOf(n.text) : s.indexOf(n.text);
      if (i >= 0) {
        const encoding = [...chain, n.encoding].filter((e) => e !== 'plain').join('>') || 'plain';
        found.set(n.token, { token: n.token, encoding, index: origin ?? i });
      }
    }
    if (chain.length >= MAX_DEPTH || found.size === tokenCount) return;
    if (/%[0-9a-fA-F]{2}/.test(s)) {
      const d = urlDecode(s);
      if (d !== s) visit(d, [...chain, 'url'], origin ?? 0);
    }
    for (const m of s.matchAll(/[A-Za-z0-9+/_-]{16,}={0,2}/g)) {
      const run = m[0];
      for (let off = 0; off < 4 && off < run.length - 12; off++) {
        const d = Buffer.from(run.slice(off), 'base64').toString('utf8');
        if (printable(d)) {
          visit(d, [...chain, 'base64'], origin ?? m.index);
          break;
        }
      }
    }
    for (const m of s.matchAll(/[0-9a-fA-F]{16,}/g)) {
      for (let off = 0; off < 2; off++) {
        const run = m[0].slice(off);
        const d = Buffer.from(run.slice(0, run.length - (run.length % 2)), 'hex').toString('utf8');
        if (printable(d)) {
          visit(d, [...chain, 'hex'], origin ?? m.index);
          break;
        }
      }
    }
  };
  visit(text.length > MAX_TEXT ? text.slice(0, MAX_TEXT) : text, [], undefined);
  return [...found.values()];
}

/**
 * DNS exfiltration splits data over labels under an attacker domain (`<hex>.<hex>.evil.test`):
 * scans the name, the joined labels, and the joined labels decoded as base32.
 */
export function findHoneytokensInDnsName(name: string, tokens: readonly TraceHoneytoken[]): TokenMatch[] {
  const labels = name.split('.');
  const data = labels.slice(0, Math.max(1, labels.length - 2)).join('');
  const out = new Map<string, TokenMatch>();
  for (const m of findHoneytokens(name, tokens)) out.set(m.token, m);
  for (const m of findHoneytokens(data, tokens)) if (!out.has(m.token)) out.set(m.token, { ...m, index: 0 });
  if (/^[A-Za-z2-7]+$/.test(data)) {
    const decoded = decodeBase32(data);
    if (printable(decoded)) {
      for (const m of findHoneytokens(decoded, tokens)) {
        if (!out.has(m.token))
          out.set(m.token, { ...m, encoding: `base32>${m.encoding}`.replace(/>plain$/, ''), index: 0 });
      }
    }
  }
  return [...out.values()];
}

/** A short excerpt of `text` around `index`, prefixed with the decoding chain. */
export function excerptAround(text: string, index: number, encoding: string, width = 160): string {
  const start = Math.max(0, index - 40);
  const body = text.slice(start, start + width).replace(/[\r\n]+/g, ' ');
  return `${encoding === 'plain' ? '' : `[${encoding}] `}${start > 0 ? '…' : ''}${body}${start + width < text.length ? '…' : ''}`;
}
