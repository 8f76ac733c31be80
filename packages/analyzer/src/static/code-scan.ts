import { CODE_PATTERNS, type CodePattern } from './code-patterns.js';
import type { CodeSignal } from './types.js';

/** Pure text scanning: pattern hits with line numbers and short excerpts. */

export type CodeHit = Omit<CodeSignal, 'reach'>;

export const EXCERPT_CHARS = 200;
/** At most this many matches of one pattern are examined per file; the count saturates there. */
const MAX_MATCHES_PER_PATTERN = 2000;
const LONG_LINE = 1000;

export class LineIndex {
  private readonly starts: number[] = [0];
  constructor(private readonly text: string) {
    for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) this.starts.push(i + 1);
  }
  get count(): number {
    return this.starts.length;
  }
  /** 1-based line of an offset. */
  lineOf(offset: number): number {
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((this.starts[mid] ?? 0) <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo + 1;
  }
  lineBounds(line: number): [number, number] {
    const start = this.starts[line - 1] ?? 0;
    const next = this.starts[line];
    return [start, next === undefined ? this.text.length : next - 1];
  }
  lengths(): number[] {
    return this.starts.map((start, i) => {
      const next = this.starts[i + 1];
      return (next === undefined ? this.text.length : next - 1) - start;
    });
  }
}

/** The line around an offset, or a window of it when the line is long. */
export function excerptAt(text: string, index: LineIndex, offset: number): string {
  const [start, end] = index.lineBounds(index.lineOf(offset));
  if (end - start <= EXCERPT_CHARS) return text.slice(start, end).trim();
  const from = Math.max(start, offset - 60);
  const to = Math.min(end, from + EXCERPT_CHARS);
  return `${from > start ? '…' : ''}${text.slice(from, to).trim()}${to < end ? '…' : ''}`;
}

const COMMENT_AWARE = new Set(['credential-path', 'env-dump', 'network', 'browser-hook', 'shell-downloader']);

/**
 * Whether a match sits in a line comment (`// …`, ` * …` in a block comment, `# …` in shell).
 * Only the current line is looked at, at most 300 characters back: a cheap approximation that
 * keeps URLs in comments ("see https://pastebin.com/…") from counting as code.
 */
export function inLineComment(text: string, offset: number, shell: boolean): boolean {
  const lineStart = text.lastIndexOf('\n', offset - 1) + 1;
  const prefix = text.slice(Math.max(lineStart, offset - 300), offset);
  const trimmed = prefix.trimStart();
  if (shell) return trimmed.startsWith('#');
  if (trimmed.startsWith('//') || trimmed.startsWith('*') || trimmed.startsWith('/*')) return true;
  for (let at = prefix.lastIndexOf('//'); at !== -1; at = at > 0 ? prefix.lastIndexOf('//', at - 1) : -1) {
    if (at > 0 && !/[\s;,{}()]/.test(prefix[at - 1]!)) continue;
    // A `//` outside any string literal: every quote kind before it is balanced.
    const before = prefix.slice(0, at);
    if ([`'`, '"', '`'].every((q) => before.split(q).length % 2 === 1)) return true;
  }
  return false;
}

function scanPattern(file: string, text: string, index: LineIndex, p: CodePattern): CodeHit | null {
  if (p.hints && !p.hints.some((hint) => text.includes(hint))) return null;
  const regex = new RegExp(p.regex.source, p.regex.flags.includes('g') ? p.regex.flags : `${p.regex.flags}g`);
  let first: RegExpExecArray | null = null;
  let count = 0;
  const distinct = new Set<string>();
  for (let examined = 0; examined < MAX_MATCHES_PER_PATTERN; examined++) {
    const match = regex.exec(text);
    if (!match) break;
    if (match[0].length === 0) regex.lastIndex++;
    if (p.accept && !p.accept(match[0])) continue;
    if (
      COMMENT_AWARE.has(p.kind) &&
      inLineComment(text, match.index, /\.(?:sh|bash|zsh|command)$/.test(file))
    )
      continue;
    first ??= match;
    count++;
    if (p.kind === 'crypto-address-list') distinct.add(match[0].toLowerCase());
  }
  const effective = p.kind === 'crypto-address-list' ? distinct.size : count;
  if (!first || effective < (p.minCount ?? 1)) return null;
  return {
    kind: p.kind,
    pattern: p.pattern,
    strength: p.strength,
    file,
    line: index.lineOf(first.index),
    excerpt: excerptAt(text, index, first.index),
    count: effective,
  };
}

function isDataBlob(line: string): boolean {
  let data = 0;
  for (let i = 0; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if (
      (c >= 48 && c <= 57) ||
      (c >= 65 && c <= 90) ||
      (c >= 97 && c <= 122) ||
      c === 43 ||
      c === 47 ||
      c === 61
    )
      data++;
  }
  return data / line.length >= 0.95;
}

/**
 * A very long line in an otherwise readable file: the shape of a payload appended to a
 * hand-written entry file. Minified bundles (all lines long) and embedded base64 blobs are not it.
 */
function longLineHit(file: string, text: string, index: LineIndex): CodeHit | null {
  if (index.count < 20) return null;
  const lengths = index.lengths();
  const sorted = [...lengths].sort((a, b) => a - b);
  const median = sorted[sorted.length >> 1] ?? 0;
  if (median >= 120) return null;
  for (let i = 0; i < lengths.length; i++) {
    if ((lengths[i] ?? 0) < LONG_LINE) continue;
    const [start, end] = index.lineBounds(i + 1);
    const line = text.slice(start, end);
    if (isDataBlob(line) || /^\s*\/\/[#@] source(?:Mapping)?URL=/.test(line)) continue;
    return {
      kind: 'obfuscation',
      pattern: 'long-line-in-readable-file',
      strength: 'weak',
      file,
      line: i + 1,
      excerpt: excerptAt(text, index, start),
      count: lengths.filter((n) => n >= LONG_LINE).length,
    };
  }
  return null;
}

/** Scans one text file with the given patterns (all code patterns by default). */
export function scanText(file: string, text: string, patterns: CodePattern[] = CODE_PATTERNS): CodeHit[] {
  const index = new LineIndex(text);
  const hits: CodeHit[] = [];
  for (const pattern of patterns) {
    const hit = scanPattern(file, text, index, pattern);
    if (hit) hits.push(hit);
  }
  if (patterns === CODE_PATTERNS) {
    const long = longLineHit(file, text, index);
    if (long) hits.push(long);
  }
  return hits;
}
