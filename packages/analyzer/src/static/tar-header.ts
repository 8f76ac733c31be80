/** Pure parsing of ustar / GNU / pax tar headers. No I/O. */

export const BLOCK = 512;

export interface RawHeader {
  name: string;
  mode: number;
  size: number;
  type: string;
  linkname: string;
  prefix: string;
  isUstar: boolean;
}

export type HeaderResult = { ok: true; header: RawHeader } | { ok: false; reason: string };

function cString(block: Uint8Array, start: number, length: number): string {
  let end = start;
  const limit = start + length;
  while (end < limit && block[end] !== 0) end++;
  return Buffer.from(block.buffer, block.byteOffset + start, end - start).toString('utf8');
}

/** Octal (space/NUL padded) or GNU base-256 numbers. Returns NaN for garbage. */
export function parseNumber(block: Uint8Array, start: number, length: number): number {
  const first = block[start] ?? 0;
  if (first & 0x80) {
    // Base-256: big-endian, the top bit of the first byte is the marker. Negative values are invalid here.
    if (first & 0x40) return Number.NaN;
    let value = first & 0x3f;
    for (let i = 1; i < length; i++) {
      value = value * 256 + (block[start + i] ?? 0);
      if (value > Number.MAX_SAFE_INTEGER) return Number.NaN;
    }
    return value;
  }
  const text = cString(block, start, length).trim();
  if (text === '') return 0;
  if (!/^[0-7]+$/.test(text)) return Number.NaN;
  return Number.parseInt(text, 8);
}

export function isZeroBlock(block: Uint8Array): boolean {
  for (let i = 0; i < BLOCK; i++) if (block[i] !== 0) return false;
  return true;
}

function checksumMatches(block: Uint8Array): boolean {
  const stored = parseNumber(block, 148, 8);
  if (Number.isNaN(stored)) return false;
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const byte = i >= 148 && i < 156 ? 0x20 : (block[i] ?? 0);
    unsigned += byte;
    signed += byte > 127 ? byte - 256 : byte;
  }
  return stored === unsigned || stored === signed;
}

export function parseHeader(block: Uint8Array): HeaderResult {
  if (!checksumMatches(block)) return { ok: false, reason: 'tar header checksum mismatch' };
  const size = parseNumber(block, 124, 12);
  if (Number.isNaN(size) || size < 0) return { ok: false, reason: 'tar header has an invalid size' };
  const magic = cString(block, 257, 6);
  const isUstar = magic.startsWith('ustar');
  return {
    ok: true,
    header: {
      name: cString(block, 0, 100),
      mode: parseNumber(block, 100, 8) || 0,
      size,
      type: String.fromCharCode(block[156] ?? 0),
      linkname: cString(block, 157, 100),
      prefix: isUstar && magic === 'ustar' ? cString(block, 345, 155) : '',
      isUstar,
    },
  };
}

/** Parses pax extended header records (`<len> <key>=<value>\n`). Malformed records end parsing. */
export function parsePax(body: Buffer): Record<string, string> {
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  let offset = 0;
  while (offset < body.length) {
    const space = body.indexOf(0x20, offset);
    if (space === -1 || space - offset > 20) break;
    const length = Number.parseInt(body.subarray(offset, space).toString('ascii'), 10);
    if (!Number.isFinite(length) || length <= 0 || offset + length > body.length) break;
    const record = body.subarray(space + 1, offset + length - 1).toString('utf8');
    const eq = record.indexOf('=');
    if (eq > 0) out[record.slice(0, eq)] = record.slice(eq + 1);
    offset += length;
  }
  return out;
}

/** A C string from a GNU long-name body (NUL terminated). */
export function gnuLongName(body: Buffer): string {
  const nul = body.indexOf(0);
  return body.subarray(0, nul === -1 ? body.length : nul).toString('utf8');
}
