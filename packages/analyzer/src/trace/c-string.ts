// Decoding of the C-style quoted strings strace prints ("abc\n\x01\0", optionally followed by `...`).

export interface QuotedString {
  /** The decoded bytes. */
  bytes: Uint8Array;
  /** True when strace cut the string at its `-s` limit (`"abc"...`). */
  truncated: boolean;
  /** Index just past the closing quote (and the `...` if any) in the source text. */
  end: number;
}

const SIMPLE_ESCAPES: Record<string, number> = {
  n: 0x0a,
  t: 0x09,
  r: 0x0d,
  v: 0x0b,
  f: 0x0c,
  a: 0x07,
  b: 0x08,
  e: 0x1b,
  '"': 0x22,
  "'": 0x27,
  '\\': 0x5c,
  '?': 0x3f,
};

const isOctal = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '7';
const isHex = (c: string | undefined): boolean => c !== undefined && /^[0-9a-fA-F]$/.test(c);

/**
 * Reads a quoted string starting at `start` (which must be a `"`). Returns undefined when the text
 * there is not a complete quoted string. Printable UTF-8 that strace left unescaped is kept as bytes.
 */
export function readQuoted(text: string, start: number): QuotedString | undefined {
  if (text[start] !== '"') return undefined;
  const bytes: number[] = [];
  let i = start + 1;
  while (i < text.length) {
    const c = text[i] as string;
    if (c === '"') {
      let end = i + 1;
      const truncated = text.startsWith('...', end);
      if (truncated) end += 3;
      return { bytes: Uint8Array.from(bytes), truncated, end };
    }
    if (c !== '\\') {
      const code = c.charCodeAt(0);
      if (code < 0x80) bytes.push(code);
      else for (const b of Buffer.from(c, 'utf8')) bytes.push(b);
      i += 1;
      continue;
    }
    const n = text[i + 1];
    if (n === undefined) return undefined;
    const simple = SIMPLE_ESCAPES[n];
    if (simple !== undefined) {
      bytes.push(simple);
      i += 2;
    } else if (n === 'x' && isHex(text[i + 2])) {
      let j = i + 2;
      let hex = '';
      while (hex.length < 2 && isHex(text[j])) hex += text[j++];
      bytes.push(parseInt(hex, 16));
      i = j;
    } else if (isOctal(n)) {
      let j = i + 1;
      let oct = '';
      while (oct.length < 3 && isOctal(text[j])) oct += text[j++];
      bytes.push(parseInt(oct, 8) & 0xff);
      i = j;
    } else {
      // Unknown escape: keep the character itself.
      bytes.push(n.charCodeAt(0) & 0xff);
      i += 2;
    }
  }
  return undefined;
}

/** Decodes a whole argument that is a quoted string (`"..."` or `"..."...`) to UTF-8 text. */
export function decodeQuotedArg(arg: string): { value: string; truncated: boolean } | undefined {
  const trimmed = arg.trim();
  // Fast path: no escapes at all (most paths).
  const close = trimmed.indexOf('"', 1);
  if (trimmed.charCodeAt(0) === 34 && close > 0 && trimmed.lastIndexOf('\\', close) < 0) {
    const rest = trimmed.length - close - 1;
    if (rest === 0) return { value: trimmed.slice(1, close), truncated: false };
    if (rest === 3 && trimmed.endsWith('...')) return { value: trimmed.slice(1, close), truncated: true };
  }
  const q = readQuoted(trimmed, 0);
  if (!q) return undefined;
  return { value: Buffer.from(q.bytes).toString('utf8'), truncated: q.truncated };
}

/** Decodes C escapes in a bare (unquoted) piece of text, such as a `-yy` path decoration. */
export function unescapeBare(text: string): string {
  if (!text.includes('\\')) return text;
  const q = readQuoted(`"${text.replace(/"/g, '\\"')}"`, 0);
  return q ? Buffer.from(q.bytes).toString('utf8') : text;
}
