// Writes a stored tarball's files to a fresh temporary directory (memory file system when the
// machine has one, extractionTempRoot) for the sandbox: npm's own
// extraction (node-tar with pacote's options, the analyzer's limits), so the sandbox runs exactly
// the files npm installs — the same files the static stage read.
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import {
  DEFAULT_LIMITS,
  extractTarball,
  makeExtractionDir,
  writtenBytes,
  type ExtractedTree,
  type ExtractionSummary,
} from '@secure-registry/analyzer';

export interface PackageDir {
  dir: string;
  /** The parsed package.json, or undefined when missing or invalid. */
  manifest: Record<string, unknown> | undefined;
  /** Package-relative paths of the regular files written. */
  files: Set<string>;
  /** Total size of the files written, in bytes. */
  bytes: number;
  /** Extraction problems (the static stage reports them as findings too). */
  issues: string[];
  cleanup(): Promise<void>;
}

async function readManifest(dir: string): Promise<Record<string, unknown> | undefined> {
  try {
    const parsed: unknown = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8'));
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * `packument` is the registry's manifest of this version: npm makes its bins executable as it
 * extracts (pacote), so the sandbox does too.
 */
export async function writePackageDir(
  tarball: Uint8Array,
  packument?: Record<string, unknown>,
): Promise<PackageDir> {
  const dir = await makeExtractionDir('sr-pkg-');
  const cleanup = (): Promise<void> => rm(dir, { recursive: true, force: true });
  try {
    const extracted = await extractTarball(tarball, dir, { limits: DEFAULT_LIMITS, manifest: packument });
    const tree = { dir, files: [...extracted.files.keys()], bytes: writtenBytes(extracted.files) };
    return await packageDirOf(tree, extracted.summary);
  } catch (error) {
    await cleanup();
    throw error;
  }
}

/** A fresh directory for the static stage to extract into and leave (packageDirOf). */
export function newPackageDir(): Promise<string> {
  return makeExtractionDir('sr-pkg-');
}

/** The package directory of files already extracted (the static stage's, analyzeStaticInto). */
export async function packageDirOf(tree: ExtractedTree, summary: ExtractionSummary): Promise<PackageDir> {
  const issues = summary.issues.map((i) => `${i.kind}${i.path ? ` ${i.path}` : ''}: ${i.detail}`);
  if (!summary.complete) issues.push('the archive could not be read to its end');
  return {
    dir: tree.dir,
    manifest: await readManifest(tree.dir),
    files: new Set(tree.files),
    bytes: tree.bytes,
    issues,
    cleanup: () => rm(tree.dir, { recursive: true, force: true }),
  };
}
