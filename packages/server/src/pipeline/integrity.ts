import { createHash } from 'node:crypto';
import { integritiesMatch, parseIntegrity } from '@secure-registry/shared';
import type { Finding } from '@secure-registry/shared';

export interface ComputedIntegrity {
  /** `sha512-<base64>` of the bytes. */
  sha512: string;
  /** `sha1-<base64>` of the bytes (old lockfiles and packuments only carry this). */
  sha1: string;
  sha512Hex: string;
}

export function computeIntegrity(bytes: Uint8Array): ComputedIntegrity {
  const sha512 = createHash('sha512').update(bytes).digest();
  const sha1 = createHash('sha1').update(bytes).digest('base64');
  return {
    sha512: `sha512-${sha512.toString('base64')}`,
    sha1: `sha1-${sha1}`,
    sha512Hex: sha512.toString('hex'),
  };
}

/** Upstream's integrity for a version: `dist.integrity`, else `dist.shasum` (hex sha1) as SRI. */
export function upstreamIntegrity(
  dist: { integrity?: unknown; shasum?: unknown } | undefined,
): string | undefined {
  if (typeof dist?.integrity === 'string' && parseIntegrity(dist.integrity).length > 0) return dist.integrity;
  if (typeof dist?.shasum === 'string' && /^[0-9a-f]{40}$/i.test(dist.shasum)) {
    return `sha1-${Buffer.from(dist.shasum, 'hex').toString('base64')}`;
  }
  return undefined;
}

/**
 * Compares the bytes' integrity with the lockfile's and upstream's. Returns the findings: none when
 * both match; a critical `integrity-mismatch` when either disagrees; a high `integrity-unverifiable`
 * when upstream gives no usable hash (nothing proves the bytes are the published ones).
 */
export function checkIntegrity(input: {
  actual: ComputedIntegrity;
  lockfile: string;
  upstream: string | undefined;
}): Finding[] {
  const actual = `${input.actual.sha512} ${input.actual.sha1}`;
  const findings: Finding[] = [];
  const sources: { detail: string; expected: string | undefined }[] = [
    { detail: 'lockfile integrity', expected: input.lockfile },
    { detail: 'upstream dist.integrity', expected: input.upstream },
  ];
  for (const source of sources) {
    if (source.expected === undefined) {
      findings.push({
        rule: 'integrity-unverifiable',
        severity: 'high',
        message:
          'upstream gives no integrity for this version: the tarball cannot be proven to be the published one',
        evidence: [{ kind: 'metadata', detail: source.detail, excerpt: `actual ${input.actual.sha512}` }],
      });
    } else if (!integritiesMatch(source.expected, actual)) {
      findings.push({
        rule: 'integrity-mismatch',
        severity: 'critical',
        message: `the tarball's integrity does not match the ${source.detail}`,
        evidence: [
          {
            kind: 'metadata',
            detail: source.detail,
            excerpt: `expected ${source.expected}; actual ${input.actual.sha512} (${input.actual.sha1})`,
          },
        ],
      });
    }
  }
  return findings;
}
