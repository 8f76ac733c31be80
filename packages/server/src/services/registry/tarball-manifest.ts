/**
 * Reads `package.json` from an npm tarball (gzip + ustar/pax), to build a version manifest from a
 * stored artifact when the upstream packument cannot be fetched. Pure over the bytes; nothing is
 * written to disk and no entry but the manifest is decoded.
 */
import { gunzipSync } from 'node:zlib';
import { isRecord } from './records.js';
import type { JsonRecord } from './records.js';

const BLOCK = 512;
const MAX_UNPACKED_BYTES = 256 * 1024 * 1024;
const MAX_MANIFEST_BYTES = 8 * 1024 * 1024;

function readString(block: Buffer, offset: number, length: number): string {
  const slice = block.subarray(offset, offset + length);
  const end = slice.indexOf(0);
  return slice.subarray(0, end === -1 ? slice.length : end).toString('utf8');
}

function readSize(block: Buffer): number {
  // Base-256 (high bit set) sizes are for entries above 8 GiB: not a package manifest.
  if (((block[124] ?? 0) & 0x80) !== 0) return Number.NaN;
  const text = readString(block, 124, 12).trim();
  return text === '' ? 0 : Number.parseInt(text, 8);
}

/** `path=` from a pax extended header body. */
function paxPath(body: Buffer): string | undefined {
  let offset = 0;
  let path: string | undefined;
  while (offset < body.length) {
    const space = body.indexOf(0x20, offset);
    if (space === -1) break;
    const length = Number.parseInt(body.subarray(offset, space).toString('ascii'), 10);
    if (!Number.isInteger(length) || length <= 0 || offset + length > body.length) break;
    const record = body.subarray(space + 1, offset + length - 1).toString('utf8');
    const equals = record.indexOf('=');
    if (equals !== -1 && record.slice(0, equals) === 'path') path = record.slice(equals + 1);
    offset += length;
  }
  return path;
}

/** True for `<root>/package.json` with exactly one leading directory (npm uses `package/`). */
function isRootManifest(path: string): boolean {
  return /^(?:\.\/)?[^/]+\/package\.json$/.test(path);
}

/**
 * The parsed root `package.json` of a gzipped npm tarball, or undefined when there is none, it is
 * not a JSON object, or the archive is malformed.
 */
export function readTarballManifest(gzipped: Uint8Array): JsonRecord | undefined {
  let tar: Buffer;
  try {
    tar = gunzipSync(gzipped, { maxOutputLength: MAX_UNPACKED_BYTES });
  } catch {
    return undefined;
  }
  let offset = 0;
  let nextPath: string | undefined;
  while (offset + BLOCK <= tar.length) {
    const header = tar.subarray(offset, offset + BLOCK);
    if (header.every((byte) => byte === 0)) return undefined;
    const size = readSize(header);
    if (!Number.isSafeInteger(size) || size < 0) return undefined;
    const type = String.fromCharCode(header[156] ?? 0);
    const bodyStart = offset + BLOCK;
    const body = tar.subarray(bodyStart, bodyStart + size);
    if (body.length < size) return undefined;
    offset = bodyStart + Math.ceil(size / BLOCK) * BLOCK;
    if (type === 'x') {
      nextPath = paxPath(body) ?? nextPath;
      continue;
    }
    if (type === 'L') {
      nextPath = readString(body, 0, body.length);
      continue;
    }
    if (type === 'g') continue;
    const prefix = readString(header, 345, 155);
    const name = readString(header, 0, 100);
    const path = nextPath ?? (prefix ? `${prefix}/${name}` : name);
    nextPath = undefined;
    if ((type === '0' || type === '\0') && isRootManifest(path)) {
      if (size > MAX_MANIFEST_BYTES) return undefined;
      try {
        const parsed: unknown = JSON.parse(body.toString('utf8'));
        return isRecord(parsed) ? parsed : undefined;
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}
