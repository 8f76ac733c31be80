import { readFileSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { isMainThread } from 'node:worker_threads';
import { join } from 'node:path';
import { makeExtractionDir } from './extraction-temp.js';
import { extractTarball, writtenBytes } from './tar-extract.js';
import type { ExtractionLimits, ExtractionSummary } from './types.js';

/**
 * Reads a package tarball the way npm installs it: npm's extraction (node-tar with pacote's options)
 * into a private temporary directory (a memory file system when there is one), then the files the caller wants to scan are read back and the
 * directory is removed. Never throws on hostile input; problems become `extraction.issues`.
 */

export interface KeptFile {
  path: string;
  bytes: Buffer;
}

export interface TarballContents {
  extraction: ExtractionSummary;
  /** Kept files by package-relative path, exactly as npm writes them. */
  files: Map<string, KeptFile>;
  /** Every regular file path npm writes (kept or not). */
  allPaths: Set<string>;
  /** The total size of those files, in bytes. */
  allBytes: number;
  skipped: { path: string; reason: string }[];
}

export interface ReadTarballOptions {
  limits: ExtractionLimits;
  /** Whether a regular file should be kept for scanning. */
  keep: (path: string, size: number) => boolean;
  /** The packument's manifest for this version (npm makes its bins executable). */
  manifest?: Record<string, unknown> | undefined;
  /** Where the temporary directory is made (default: extractionTempRoot()). */
  tempRoot?: string | undefined;
  /**
   * An empty directory to extract into and leave for the caller (the sandbox runs these files),
   * instead of a temporary one removed at the end.
   */
  keepIn?: string | undefined;
}

const PARALLEL_READS = 16;

export async function readTarball(
  tarball: Uint8Array,
  options: ReadTarballOptions,
): Promise<TarballContents> {
  const { limits } = options;
  const dir = options.keepIn ?? (await makeExtractionDir('sr-tar-', options.tempRoot));
  try {
    const extracted = await extractTarball(tarball, dir, { limits, manifest: options.manifest });
    const files = new Map<string, KeptFile>();
    const skipped: { path: string; reason: string }[] = [];
    const wanted: string[] = [];
    let keptBytes = 0;
    for (const file of [...extracted.files.values()].sort((a, b) => (a.path < b.path ? -1 : 1))) {
      if (!options.keep(file.path, file.size)) continue;
      if (file.size > limits.maxScanFileBytes || keptBytes + file.size > limits.maxScanTotalBytes) {
        skipped.push({ path: file.path, reason: `not scanned: ${file.size} bytes is above the scan limit` });
        continue;
      }
      keptBytes += file.size;
      wanted.push(file.path);
    }
    if (isMainThread) {
      let next = 0;
      const reader = async (): Promise<void> => {
        for (let path = wanted[next++]; path !== undefined; path = wanted[next++]) {
          files.set(path, { path, bytes: await readFile(join(dir, path)) });
        }
      };
      await Promise.all(Array.from({ length: Math.min(PARALLEL_READS, wanted.length) }, reader));
    } else {
      // A worker thread (the static pool) reads synchronously: its reads then wait in no queue shared
      // with the event loop's own file system work.
      for (const path of wanted) files.set(path, { path, bytes: readFileSync(join(dir, path)) });
    }
    return {
      extraction: extracted.summary,
      files,
      allPaths: new Set(extracted.files.keys()),
      allBytes: writtenBytes(extracted.files),
      skipped,
    };
  } finally {
    if (options.keepIn === undefined) await rm(dir, { recursive: true, force: true });
  }
}
