import { UserError } from '@secure-registry/shared';
/**
 * Files of a stored package tarball, read with the analyzer's safe extraction (in memory, with
 * limits; nothing is written to disk). Pure apart from decompression.
 */
import { createHash } from 'node:crypto';
import { posix } from 'node:path';
import { DEFAULT_LIMITS, readTarball } from '@secure-registry/analyzer';

/** Largest file content returned by `read_package_file`. */
export const MAX_FILE_BYTES = 64 * 1024;
/** Files kept in memory for diffing are at most this large. */
export const MAX_DIFF_FILE_BYTES = 512 * 1024;

/** A package-relative path, or a refusal: absolute paths, `..`, backslashes and NUL bytes. */
export function normalizePackagePath(input: string): string {
  const trimmed = input
    .trim()
    .replace(/^\.\//, '')
    .replace(/^package\//, '');
  const refuse = (why: string): never => {
    throw new UserError(
      'ERR_SR_INVALID_PATH',
      `refusing path ${JSON.stringify(input.slice(0, 200))}: ${why}`,
    );
  };
  if (trimmed === '') refuse('empty');
  if (trimmed.includes('\0')) refuse('NUL byte');
  if (trimmed.includes('\\')) refuse('backslash');
  if (trimmed.startsWith('/') || /^[a-z]:/i.test(trimmed)) refuse('absolute path');
  if (trimmed.split('/').includes('..')) refuse('path traversal');
  const normalized = posix.normalize(trimmed);
  if (normalized.startsWith('..') || normalized === '.') refuse('outside the package');
  return normalized;
}

export function isBinary(bytes: Uint8Array): boolean {
  return bytes.subarray(0, 8000).includes(0);
}

export interface PackageFile {
  path: string;
  size: number;
  /** The first `MAX_FILE_BYTES` as UTF-8. */
  text: string;
  truncated: boolean;
}

/** One text file of a tarball. 404 when absent, 415 for binary files. */
export async function readPackageFile(tarball: Uint8Array, path: string): Promise<PackageFile> {
  const wanted = normalizePackagePath(path);
  const contents = await readTarball(tarball, {
    limits: DEFAULT_LIMITS,
    keep: (entry, size) => entry === wanted && size <= DEFAULT_LIMITS.maxScanFileBytes,
  });
  const file = contents.files.get(wanted);
  if (!file) {
    if (contents.allPaths.has(wanted)) {
      throw new UserError('ERR_SR_FILE_TOO_LARGE', `${wanted} is too large to read`);
    }
    const sample = [...contents.allPaths].sort().slice(0, 40);
    throw new UserError('ERR_SR_FILE_NOT_FOUND', `the package has no file ${wanted}`, {
      hint: `files include: ${sample.join(', ')}`,
    });
  }
  if (isBinary(file.bytes)) {
    throw new UserError('ERR_SR_BINARY_FILE', `${wanted} is a binary file (${file.bytes.length} bytes)`);
  }
  const truncated = file.bytes.length > MAX_FILE_BYTES;
  const text = new TextDecoder('utf-8', { fatal: false }).decode(file.bytes.subarray(0, MAX_FILE_BYTES));
  return { path: wanted, size: file.bytes.length, text, truncated };
}

export interface FileEntry {
  sha256: string;
  size: number;
  /** Text content when the file is small text, for diffs. */
  text: string | undefined;
}

/** Every file of a tarball with its hash, and its text when it is small text. */
export async function listPackageFiles(tarball: Uint8Array): Promise<Map<string, FileEntry>> {
  const contents = await readTarball(tarball, {
    limits: DEFAULT_LIMITS,
    keep: (_entry, size) => size <= MAX_DIFF_FILE_BYTES,
  });
  const files = new Map<string, FileEntry>();
  for (const path of contents.allPaths) {
    const kept = contents.files.get(path);
    if (!kept) {
      files.set(path, { sha256: 'unknown (too large)', size: -1, text: undefined });
      continue;
    }
    files.set(path, {
      sha256: createHash('sha256').update(kept.bytes).digest('hex'),
      size: kept.bytes.length,
      text: isBinary(kept.bytes) ? undefined : new TextDecoder().decode(kept.bytes),
    });
  }
  return files;
}
