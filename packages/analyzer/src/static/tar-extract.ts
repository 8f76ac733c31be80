import { lstatSync, readdirSync } from 'node:fs';
import { chmod, lstat, readdir, readFile, rm } from 'node:fs/promises';
import { isMainThread } from 'node:worker_threads';
import { join } from 'node:path';
import PackageJson from '@npmcli/package-json';
import { Unpack, type ReadEntry } from 'tar';
import { entryIssue, npmTarOptions, strippedPath } from './npm-tar-options.js';
import type { ExtractionIssue, ExtractionLimits, ExtractionSummary } from './types.js';

/**
 * Extracts a package tarball exactly as npm does: node-tar's Unpack with pacote's options, into an
 * empty directory (left empty when npm's extraction fails or our limits stop it). Our limits are checked on each entry before npm's filter; an archive above them
 * is not extracted further and counts as failed. Hostile or ambiguous entries become `issues`
 * (the hostile-tarball rule); the files are whatever npm's extraction wrote.
 */

export interface ExtractedFile {
  /** Package-relative path, as written by npm. */
  path: string;
  size: number;
  /** The owner's execute bit as npm's extraction leaves it. */
  executable: boolean;
}

export interface TarExtraction {
  summary: ExtractionSummary;
  /** The files npm writes; empty when npm's extraction fails or a limit stopped it. */
  files: Map<string, ExtractedFile>;
  /** `failed`: npm's extraction fails on this archive; `over-limits`: our limits stopped it. */
  outcome: 'extracted' | 'failed' | 'over-limits';
}

export interface ExtractTarballOptions {
  limits: ExtractionLimits;
  /** The packument's manifest for this version (pacote makes its bins executable). */
  manifest?: Record<string, unknown> | undefined;
}

const MAX_ISSUES = 50;
const WRITE_CHUNK = 64 * 1024;

function clip(text: string, max = 200): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/**
 * Every regular file under `root`, package-relative. npm's extraction writes nothing else. On a
 * worker thread (the static pool) with synchronous calls: thousands of them, one after the other,
 * would each wait in the thread pool the process shares with the sandbox's host side.
 */
async function walk(root: string): Promise<Map<string, ExtractedFile>> {
  const files = new Map<string, ExtractedFile>();
  const list = (dir: string) =>
    isMainThread ? readdir(dir, { withFileTypes: true }) : readdirSync(dir, { withFileTypes: true });
  const stat = (path: string) => (isMainThread ? lstat(path) : lstatSync(path));
  const visit = async (dir: string, prefix: string): Promise<void> => {
    for (const dirent of await list(dir)) {
      const path = prefix + dirent.name;
      const full = join(dir, dirent.name);
      if (dirent.isDirectory()) await visit(full, `${path}/`);
      else if (dirent.isFile()) {
        const st = await stat(full);
        files.set(path, { path, size: st.size, executable: (st.mode & 0o100) !== 0 });
      }
    }
  };
  await visit(root, '');
  return files;
}

/** Files whose names differ only by case or Unicode normalisation, with different contents. */
async function collisions(root: string, files: Iterable<string>): Promise<ExtractionIssue[]> {
  const groups = new Map<string, string[]>();
  for (const path of files) {
    const key = path.normalize('NFC').toLowerCase();
    groups.set(key, [...(groups.get(key) ?? []), path]);
  }
  const issues: ExtractionIssue[] = [];
  for (const group of groups.values()) {
    if (group.length < 2) continue;
    const contents = await Promise.all(group.map((p) => readFile(join(root, p))));
    if (contents.every((c) => c.equals(contents[0] as Buffer))) continue;
    issues.push({
      kind: 'ambiguous',
      path: clip(group.join(', ')),
      detail:
        'files whose names differ only by case or Unicode normalisation: npm on macOS or Windows installs one of them',
    });
  }
  return issues;
}

/** Inflated bytes npm's reader may see after the end-of-archive marker (tar pads to 10 KB records). */
const AFTER_EOF_BYTES = 1024 * 1024;

/** A field node-tar keeps under a module-private symbol (its decompressor, its pending writes). */
function tarPrivate(unpack: Unpack, name: string): unknown {
  const key = Object.getOwnPropertySymbols(unpack).find((s) => s.description === name);
  return key ? (unpack as unknown as Record<symbol, unknown>)[key] : undefined;
}

type Decompressor = { on(event: 'data', fn: (chunk: Buffer) => void): void };

function decompressor(unpack: Unpack): Decompressor | null {
  const value = tarPrivate(unpack, 'unzip');
  return typeof value === 'object' && value !== null && 'on' in value ? (value as Decompressor) : null;
}

/**
 * After a failure node-tar stops reading but finishes the writes it started, and the entry it was
 * reading waits forever for the rest of its body (its file stays open). End the open entries, then
 * wait for the writes, so the directory can be emptied and no descriptor is left behind.
 */
async function writesSettled(unpack: Unpack, open: Set<ReadEntry>): Promise<void> {
  for (const entry of open) if (!entry.emittedEnd) entry.end();
  let quiet = 0;
  for (let i = 0; i < 2000 && quiet < 3; i++) {
    await new Promise((resolve) => setTimeout(resolve, 5));
    const pending = tarPrivate(unpack, 'pending');
    quiet = typeof pending === 'number' && pending > 0 ? 0 : quiet + 1;
  }
}

/**
 * Writes the tarball into npm's reader and waits for its end (null) or failure (the error). The
 * reader's own input is bounded: above the unpacked limit plus headers, above the inflation ratio
 * (past its allowance), or more than
 * AFTER_EOF_BYTES after the end-of-archive marker (node-tar buffers that data quadratically), the
 * extraction is aborted as over the limits.
 */
function feed(
  unpack: Unpack,
  input: Buffer,
  limits: ExtractionLimits,
  stop: (detail: string) => unknown,
): Promise<Error | null> {
  const maxInflated = Math.min(
    limits.maxUnpackedBytes + Math.max(64 * 1024 * 1024, limits.maxFiles * 2 * 512),
    Math.max(limits.inflationAllowanceBytes, limits.maxInflationRatio * input.length),
  );
  let inflated = 0;
  let eofAt: number | undefined;
  let done = false;
  return new Promise<Error | null>((resolve) => {
    const finish = (error: Error | null): void => {
      if (done) return;
      done = true;
      resolve(error);
    };
    const count = (bytes: number): void => {
      inflated += bytes;
      const over =
        inflated > maxInflated
          ? `decompressed stream above ${maxInflated} bytes (from a tarball of ${input.length} bytes)`
          : eofAt !== undefined && inflated - eofAt > AFTER_EOF_BYTES
            ? `more than ${AFTER_EOF_BYTES} bytes after the end-of-archive marker`
            : null;
      if (over && !done) {
        stop(over);
        unpack.abort(new Error(over));
      }
    };
    unpack.on('end', () => finish(null));
    unpack.on('error', (error: Error) => finish(error));
    unpack.on('eof', () => (eofAt ??= inflated));
    // The first bytes choose gzip or plain tar; the decompressor is watched before it gets more.
    const head = Math.min(4, input.length);
    unpack.write(input.subarray(0, head));
    const unzip = decompressor(unpack);
    unzip?.on('data', (chunk) => count(chunk.length));
    if (!unzip) count(head);
    // Written as a pipe writes it (pacote pipes the tarball into node-tar): the next chunk once the
    // reader drained the last, not every chunk at once (each refused write waited on its own listener).
    const pump = (from: number): void => {
      for (let offset = from; offset < input.length && !done;) {
        const chunk = input.subarray(offset, offset + WRITE_CHUNK);
        offset += WRITE_CHUNK;
        const more = unpack.write(chunk);
        if (!unzip) count(chunk.length);
        if (!more && offset < input.length) {
          unpack.once('drain', () => pump(offset));
          return;
        }
      }
      if (!done) unpack.end();
    };
    pump(head);
  });
}

/**
 * npm makes the package's bins executable after extraction (pacote's file fetcher and bin-links),
 * from the extracted package.json read as pacote reads it. Only files of the package are touched.
 */
async function markBins(dest: string, files: Map<string, ExtractedFile>): Promise<void> {
  let bin: unknown;
  try {
    bin = (await PackageJson.normalize(dest)).content.bin;
  } catch {
    return; // no readable package.json: nothing is linked
  }
  if (typeof bin !== 'object' || bin === null) return;
  for (const target of Object.values(bin)) {
    const file = typeof target === 'string' ? files.get(target) : undefined;
    if (!file || file.executable) continue;
    const full = join(dest, file.path);
    await chmod(full, (await lstat(full)).mode | 0o111);
    file.executable = true;
  }
}

/** The total size of the files npm wrote, in bytes. */
export function writtenBytes(files: ReadonlyMap<string, ExtractedFile>): number {
  let bytes = 0;
  for (const file of files.values()) bytes += file.size;
  return bytes;
}

export async function extractTarball(
  tarball: Uint8Array,
  dest: string,
  options: ExtractTarballOptions,
): Promise<TarExtraction> {
  const { limits } = options;
  const input = Buffer.from(tarball.buffer, tarball.byteOffset, tarball.byteLength);
  const issues: ExtractionIssue[] = [];
  // Warnings of writes still under way when npm's extraction failed are not part of its reading.
  let settled = false;
  const issue = (i: ExtractionIssue): void => {
    if (!settled && issues.length < MAX_ISSUES)
      issues.push({ ...i, ...(i.path ? { path: clip(i.path) } : {}) });
  };
  const summary = (outcome: TarExtraction['outcome'], files: Map<string, ExtractedFile>): TarExtraction => {
    const complete = outcome === 'extracted';
    let unpackedBytes = 0;
    for (const f of files.values()) unpackedBytes += f.size;
    return {
      summary: {
        complete: complete && !issues.some((i) => i.kind === 'corrupt' || i.kind === 'limit-exceeded'),
        gzip: isGzip(input),
        compressedBytes: input.length,
        unpackedBytes,
        fileCount: files.size,
        issues,
      },
      files,
      outcome,
    };
  };
  if (input.length > limits.maxCompressedBytes) {
    issue({
      kind: 'limit-exceeded',
      detail: `tarball of ${input.length} bytes (limit ${limits.maxCompressedBytes})`,
    });
    return summary('over-limits', new Map());
  }

  let stopped = false;
  let entries = 0;
  let declaredBytes = 0;
  const stop = (detail: string, path?: string): 'drop' => {
    if (!stopped) issue({ kind: 'limit-exceeded', detail, ...(path ? { path } : {}) });
    stopped = true;
    return 'drop';
  };
  const written = new Set<string>();
  const inspect = (entry: ReadEntry): 'continue' | 'drop' => {
    if (stopped) return 'drop';
    const found = entryIssue({ path: entry.path, type: entry.type, linkpath: entry.linkpath ?? '' });
    if (found) issue(found);
    if (entry.path.length > limits.maxPathLength) {
      return stop(`entry path longer than ${limits.maxPathLength}`, entry.path);
    }
    if (++entries > limits.maxFiles) return stop(`more than ${limits.maxFiles} entries`);
    if (entry.size > limits.maxFileBytes) {
      return stop(`file of ${entry.size} bytes (limit ${limits.maxFileBytes})`, entry.path);
    }
    declaredBytes += entry.size;
    if (declaredBytes > limits.maxUnpackedBytes) {
      return stop(`unpacked size above ${limits.maxUnpackedBytes} bytes`);
    }
    return 'continue';
  };
  const open = new Set<ReadEntry>();
  const accepted = (entry: ReadEntry): void => {
    open.add(entry);
    entry.on('end', () => open.delete(entry));
    const path = strippedPath(entry.path);
    if (path === null || path === '') return;
    if (written.has(path)) {
      issue({
        kind: 'ambiguous',
        path: entry.path,
        detail: 'the archive holds this path twice: npm keeps the last one, other readers the first',
      });
    }
    written.add(path);
  };
  const onwarn = (code: string, message: string): void => {
    // Informational notes (e.g. stripping a leading `/`) are flagged by entryIssue already.
    if (code === 'TAR_ENTRY_INFO') return;
    const kind = code === 'TAR_ENTRY_ERROR' ? 'ambiguous' : 'corrupt';
    issue({ kind, detail: clip(`npm's tar reader: ${code} ${String(message)}`) });
  };

  const unpack = new Unpack(
    npmTarOptions({ cwd: dest, manifest: options.manifest, inspect, accepted, onwarn }),
  );
  const failure = await feed(unpack, input, limits, stop);
  settled = true;
  if (failure || stopped) {
    // Nothing of an archive npm does not install (or we refuse) stays in the directory.
    await writesSettled(unpack, open);
    await Promise.all(
      (await readdir(dest)).map((name) => rm(join(dest, name), { recursive: true, force: true })),
    );
  }
  if (stopped) return summary('over-limits', new Map());
  if (failure) {
    settled = false;
    issue({ kind: 'corrupt', detail: clip(`npm's extraction fails: ${failure.message}`) });
    return summary('failed', new Map());
  }
  const files = await walk(dest);
  await markBins(dest, files);
  for (const found of await collisions(dest, files.keys())) issues.push(found);
  return summary('extracted', files);
}
