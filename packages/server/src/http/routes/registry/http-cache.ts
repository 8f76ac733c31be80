/** ETag and conditional-request helpers (RFC 9110) for the registry routes. */
import { createHash } from 'node:crypto';
import type { FastifyRequest } from 'fastify';

/** A strong ETag from the bytes of a body. */
export function etagOf(body: string | Uint8Array): string {
  return `"${createHash('sha256').update(body).digest('base64url').slice(0, 32)}"`;
}

function opaque(tag: string): string {
  return tag.trim().replace(/^W\//, '');
}

/**
 * True when the client's cached copy is current: `If-None-Match` (weak comparison) decides when
 * present; otherwise `If-Modified-Since` against `lastModified` (second precision).
 */
export function isNotModified(request: FastifyRequest, etag: string, lastModified?: Date): boolean {
  const ifNoneMatch = request.headers['if-none-match'];
  if (typeof ifNoneMatch === 'string' && ifNoneMatch.trim() !== '') {
    if (ifNoneMatch.trim() === '*') return true;
    const wanted = opaque(etag);
    return ifNoneMatch.split(',').some((tag) => opaque(tag) === wanted);
  }
  const ifModifiedSince = request.headers['if-modified-since'];
  if (typeof ifModifiedSince === 'string' && lastModified) {
    const since = Date.parse(ifModifiedSince);
    if (Number.isNaN(since)) return false;
    return Math.floor(lastModified.getTime() / 1000) <= Math.floor(since / 1000);
  }
  return false;
}

/** The latest valid date among ISO strings, or undefined. */
export function latestDate(values: Iterable<string | undefined>): Date | undefined {
  let latest: number | undefined;
  for (const value of values) {
    if (value === undefined) continue;
    const time = Date.parse(value);
    if (!Number.isNaN(time) && (latest === undefined || time > latest)) latest = time;
  }
  return latest === undefined ? undefined : new Date(latest);
}
