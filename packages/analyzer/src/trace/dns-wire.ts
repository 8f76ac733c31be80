// Minimal decoder for the question section of a DNS query packet (RFC 1035 §4.1), tolerant of
// truncated captures: the traced bytes are often cut at strace's `-s` limit.

const QTYPES: Record<number, string> = {
  1: 'A',
  2: 'NS',
  5: 'CNAME',
  6: 'SOA',
  12: 'PTR',
  15: 'MX',
  16: 'TXT',
  28: 'AAAA',
  33: 'SRV',
  35: 'NAPTR',
  64: 'SVCB',
  65: 'HTTPS',
  255: 'ANY',
};

export interface DnsQuestion {
  name: string;
  qtype: string;
}

/**
 * Decodes the first question of a DNS query. `tcp` packets carry a two-byte length prefix.
 * Returns undefined when the bytes are not a plausible query.
 */
export function decodeDnsQuery(bytes: Uint8Array, options: { tcp?: boolean } = {}): DnsQuestion | undefined {
  const p = options.tcp ? bytes.subarray(2) : bytes;
  if (p.length < 13) return undefined;
  const flags = ((p[2] as number) << 8) | (p[3] as number);
  if (flags & 0x8000) return undefined; // a response, not a query
  const qdcount = ((p[4] as number) << 8) | (p[5] as number);
  if (qdcount < 1) return undefined;
  const labels: string[] = [];
  let i = 12;
  for (;;) {
    const len = p[i];
    if (len === undefined) break; // truncated capture: keep what we have
    if (len === 0) {
      i++;
      break;
    }
    if (len > 63) return undefined; // compression pointers never appear in a query's first name
    const label = p.subarray(i + 1, i + 1 + len);
    labels.push(Buffer.from(label).toString('latin1'));
    if (label.length < len) break;
    i += 1 + len;
  }
  if (labels.length === 0) return undefined;
  const name = labels.join('.');
  if (!/^[\x21-\x7e]+$/.test(name)) return undefined;
  const hi = p[i];
  const lo = p[i + 1];
  const code = hi === undefined || lo === undefined ? undefined : (hi << 8) | lo;
  return { name, qtype: code === undefined ? 'unknown' : (QTYPES[code] ?? `TYPE${code}`) };
}
