/**
 * Reads `package.json` from an npm tarball, to build a version manifest from a stored artifact when
 * the upstream packument cannot be fetched: the package.json npm installs, through the analyzer's
 * npm-exact extraction (node-tar with pacote's options, in a private temporary directory).
 */
import { DEFAULT_LIMITS, readTarball } from '@secure-registry/analyzer';
import { isRecord } from './records.js';
import type { JsonRecord } from './records.js';

const MAX_MANIFEST_BYTES = 8 * 1024 * 1024;

/**
 * The parsed root `package.json` of an npm tarball, or undefined when there is none, it is not a
 * JSON object, or npm could not extract the archive.
 */
export async function readTarballManifest(tarball: Uint8Array): Promise<JsonRecord | undefined> {
  const contents = await readTarball(tarball, {
    limits: { ...DEFAULT_LIMITS, maxScanFileBytes: MAX_MANIFEST_BYTES },
    keep: (path) => path === 'package.json',
  });
  const file = contents.files.get('package.json');
  if (!file) return undefined;
  try {
    const parsed: unknown = JSON.parse(file.bytes.toString('utf8'));
    return isRecord(parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
}
