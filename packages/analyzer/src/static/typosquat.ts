import { POPULAR_PACKAGES } from './popular-packages.js';
import type { TyposquatSignal } from './types.js';

/** Pure typosquat detection against the list of popular package names. */

const POPULAR = [...new Set(POPULAR_PACKAGES)].sort();
const POPULAR_SET = new Set(POPULAR);

/** Optimal-string-alignment (restricted Damerau-Levenshtein) distance, capped at `max + 1`. */
export function damerauLevenshtein(a: string, b: string, max = 2): number {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[][] = Array.from({ length: rows }, (_, i) =>
    Array.from({ length: cols }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i < rows; i++) {
    let rowMin = Number.POSITIVE_INFINITY;
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let value = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        value = Math.min(value, d[i - 2]![j - 2]! + 1);
      d[i]![j] = value;
      rowMin = Math.min(rowMin, value);
    }
    if (rowMin > max) return max + 1;
  }
  return d[a.length]![b.length]!;
}

function withoutSeparators(name: string): string {
  return name.replace(/[-_.]/g, '');
}

function deglyph(name: string): string {
  return name
    .replace(/rn/g, 'm')
    .replace(/vv/g, 'w')
    .replace(/1/g, 'l')
    .replace(/0/g, 'o')
    .replace(/5/g, 's');
}

function split(name: string): { scope?: string; bare: string } {
  const match = /^@([^/]+)\/(.+)$/.exec(name);
  return match ? { scope: match[1]!, bare: match[2]! } : { bare: name };
}

interface Candidate {
  name: string;
  plain: string;
  glyphs: string;
  scope?: string;
  bare: string;
}

function candidate(name: string): Candidate {
  return { name, plain: withoutSeparators(name), glyphs: deglyph(name), ...split(name) };
}

const TARGETS: Candidate[] = POPULAR.map(candidate);

function scopeConfusion(n: Candidate, t: Candidate): boolean {
  if (t.scope === undefined) return false;
  if (n.scope === undefined) {
    return [
      `${t.scope}-${t.bare}`,
      `${t.scope}${t.bare}`,
      `${t.scope}.${t.bare}`,
      `${t.scope}_${t.bare}`,
    ].includes(n.name);
  }
  return (
    n.scope !== t.scope &&
    n.bare === t.bare &&
    (damerauLevenshtein(n.scope, t.scope, 1) <= 1 ||
      withoutSeparators(n.scope) === withoutSeparators(t.scope))
  );
}

/** The popular package `name` imitates, or null. Popular names themselves are never typosquats. */
export function detectTyposquat(rawName: string): TyposquatSignal | null {
  const name = rawName.toLowerCase();
  if (POPULAR_SET.has(name)) return null;
  const n = candidate(name);
  for (const t of TARGETS) if (scopeConfusion(n, t)) return { target: t.name, technique: 'scope-confusion' };
  for (const t of TARGETS) if (n.plain === t.plain) return { target: t.name, technique: 'separator' };
  for (const t of TARGETS) if (n.glyphs === t.glyphs) return { target: t.name, technique: 'homoglyph' };
  for (const t of TARGETS) {
    if (t.name.length >= 5 && damerauLevenshtein(name, t.name, 1) === 1)
      return { target: t.name, technique: 'edit-distance' };
  }
  return null;
}
