// Writes a stored tarball's files to a fresh temporary directory for the sandbox, through the safe
// in-memory reader (no path escapes, size and count limits; links and special files are dropped).
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve, sep } from 'node:path';
import { DEFAULT_LIMITS, readTarball, type ExtractionLimits } from '@secure-registry/analyzer';

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

/** Executable when it looks like a program: a `#!` script or an ELF / Mach-O binary. */
function modeOf(bytes: Buffer): number {
  const magic = bytes.subarray(0, 4).toString('hex');
  const program =
    bytes.subarray(0, 2).toString() === '#!' ||
    magic === '7f454c46' ||
    /^(cffaedfe|cefaedfe|cafebabe)$/.test(magic);
  return program ? 0o755 : 0o644;
}

/**
 * The extraction limits with the scan limits raised to them: every file within the limits is written
 * in full (a platform package's 10 MB binary too), not only those small enough to be scanned.
 */
const WRITE_LIMITS: ExtractionLimits = {
  ...DEFAULT_LIMITS,
  maxScanFileBytes: DEFAULT_LIMITS.maxFileBytes,
  maxScanTotalBytes: DEFAULT_LIMITS.maxUnpackedBytes,
};

const PARALLEL_WRITES = 16;

export async function writePackageDir(tarball: Uint8Array): Promise<PackageDir> {
  const contents = await readTarball(tarball, { limits: WRITE_LIMITS, keep: () => true });
  const dir = await mkdtemp(join(tmpdir(), 'sr-pkg-'));
  const cleanup = (): Promise<void> => rm(dir, { recursive: true, force: true });
  try {
    const root = resolve(dir);
    const files = new Set<string>();
    let bytes = 0;
    const writes: { target: string; bytes: Buffer }[] = [];
    const made = new Set<string>();
    for (const [path, file] of contents.files) {
      const target = resolve(root, path);
      // The reader already refuses escaping paths; this check keeps the write safe on its own.
      if (!target.startsWith(root + sep)) continue;
      if (!made.has(dirname(target))) await mkdir(dirname(target), { recursive: true });
      made.add(dirname(target));
      writes.push({ target, bytes: file.bytes });
      files.add(path);
      bytes += file.bytes.length;
    }
    // The directories exist: the files are written a few at a time (hundreds of packages with
    // thousands of files are extracted for an install phase's dependencies).
    let next = 0;
    const writer = async (): Promise<void> => {
      for (let w = writes[next++]; w; w = writes[next++])
        await writeFile(w.target, w.bytes, { mode: modeOf(w.bytes), flag: 'wx' }).catch(
          (error: NodeJS.ErrnoException) => {
            if (error.code !== 'EEXIST' && error.code !== 'EISDIR' && error.code !== 'ENOTDIR') throw error;
          },
        );
    };
    await Promise.all(Array.from({ length: Math.min(PARALLEL_WRITES, writes.length) }, writer));
    let manifest: Record<string, unknown> | undefined;
    const raw = contents.files.get('package.json');
    if (raw) {
      try {
        const parsed: unknown = JSON.parse(raw.bytes.toString('utf8'));
        if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed))
          manifest = parsed as Record<string, unknown>;
      } catch {
        manifest = undefined;
      }
    }
    const issues = contents.extraction.issues.map(
      (i) => `${i.kind}${i.path ? ` ${i.path}` : ''}: ${i.detail}`,
    );
    for (const skipped of contents.skipped) issues.push(`not written: ${skipped.path}: ${skipped.reason}`);
    if (!contents.extraction.complete) issues.push('the archive could not be read to its end');
    return { dir, manifest, files, bytes, issues, cleanup };
  } catch (error) {
    await cleanup();
    throw error;
  }
}
