/** Helpers for Subresource Integrity strings (`sha512-<base64>`), as npm uses them. */

const SRI_PATTERN = /^(sha1|sha256|sha384|sha512)-([A-Za-z0-9+/]+={0,2})$/;
const STRENGTH = { sha1: 0, sha256: 1, sha384: 2, sha512: 3 } as const;

export type SriAlgorithm = keyof typeof STRENGTH;
export interface SriHash {
  algorithm: SriAlgorithm;
  digest: string;
}

/** Parses an SRI string (possibly several space-separated hashes); returns [] for anything invalid. */
export function parseIntegrity(value: string | undefined | null): SriHash[] {
  if (!value) return [];
  const hashes: SriHash[] = [];
  for (const part of value.trim().split(/\s+/)) {
    const match = SRI_PATTERN.exec(part.replace(/\?.*$/, ''));
    if (match) hashes.push({ algorithm: match[1] as SriAlgorithm, digest: match[2]! });
  }
  return hashes;
}

/** The strongest hash of an SRI string, or undefined. */
export function strongestHash(value: string | undefined | null): SriHash | undefined {
  return parseIntegrity(value).sort((a, b) => STRENGTH[b.algorithm] - STRENGTH[a.algorithm])[0];
}

/**
 * True when two SRI strings share at least one algorithm and agree on the strongest shared one.
 * Two strings with no algorithm in common do not match: the caller cannot prove equality.
 */
export function integritiesMatch(a: string | undefined | null, b: string | undefined | null): boolean {
  const left = parseIntegrity(a);
  const right = parseIntegrity(b);
  const shared = left
    .filter((l) => right.some((r) => r.algorithm === l.algorithm))
    .sort((x, y) => STRENGTH[y.algorithm] - STRENGTH[x.algorithm]);
  const best = shared[0];
  if (!best) return false;
  return right.some((r) => r.algorithm === best.algorithm && r.digest === best.digest);
}

export function formatIntegrity(hash: SriHash): string {
  return `${hash.algorithm}-${hash.digest}`;
}
