import { createGunzip } from 'node:zlib';
import { checkEntryPath, hardlinkStaysInside, symlinkStaysInside } from './entry-path.js';
import { BLOCK, gnuLongName, isZeroBlock, parseHeader, parsePax } from './tar-header.js';
import type { ExtractionIssue, ExtractionLimits, ExtractionSummary } from './types.js';

/**
 * Reads a package tarball in memory: gunzip and tar parsing with limits. Never writes to disk and
 * never throws on hostile input; problems become `issues`. Only files the caller wants to scan are
 * kept (as bytes), everything else is counted and skipped.
 */

export interface KeptFile {
  path: string;
  bytes: Buffer;
}

export interface TarballContents {
  extraction: ExtractionSummary;
  /** Kept files by package-relative path (later duplicates replace earlier ones, as on extraction). */
  files: Map<string, KeptFile>;
  /** Every regular file path in the package (kept or not). */
  allPaths: Set<string>;
  skipped: { path: string; reason: string }[];
}

export interface ReadTarballOptions {
  limits: ExtractionLimits;
  /** Whether a regular file should be kept for scanning. */
  keep: (path: string, size: number) => boolean;
}

const MAX_META_BYTES = 1024 * 1024;
const MAX_ISSUES = 50;

function clip(text: string, max = 200): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

class TarStream {
  readonly issues: ExtractionIssue[] = [];
  readonly files = new Map<string, KeptFile>();
  readonly allPaths = new Set<string>();
  readonly skipped: { path: string; reason: string }[] = [];
  fileCount = 0;
  unpackedBytes = 0;
  keptBytes = 0;
  done = false;
  ended = false;

  private header = Buffer.alloc(BLOCK);
  private headerFill = 0;
  private state: 'header' | 'body' | 'pad' = 'header';
  private remaining = 0;
  private padding = 0;
  private collect: Buffer[] | null = null;
  private onBody: ((body: Buffer) => void) | null = null;
  private zeroBlocks = 0;
  private pax: Record<string, string> = {};
  private longName: string | undefined;
  private longLink: string | undefined;

  constructor(private readonly options: ReadTarballOptions) {}

  issue(issue: ExtractionIssue): void {
    if (this.issues.length < MAX_ISSUES)
      this.issues.push({ ...issue, ...(issue.path ? { path: clip(issue.path) } : {}) });
  }

  private stop(issue?: ExtractionIssue): void {
    if (issue) this.issue(issue);
    this.done = true;
  }

  write(chunk: Buffer): void {
    let offset = 0;
    while (offset < chunk.length && !this.done) {
      if (this.state === 'header') {
        const n = Math.min(BLOCK - this.headerFill, chunk.length - offset);
        chunk.copy(this.header, this.headerFill, offset, offset + n);
        this.headerFill += n;
        offset += n;
        if (this.headerFill === BLOCK) {
          this.headerFill = 0;
          this.handleHeader();
        }
      } else if (this.state === 'body') {
        const n = Math.min(this.remaining, chunk.length - offset);
        if (this.collect) this.collect.push(Buffer.from(chunk.subarray(offset, offset + n)));
        this.remaining -= n;
        offset += n;
        if (this.remaining === 0) this.finishBody();
      } else {
        const n = Math.min(this.padding, chunk.length - offset);
        this.padding -= n;
        offset += n;
        if (this.padding === 0) this.state = 'header';
      }
    }
  }

  /** The input ended: a clean end is at a header boundary. */
  finish(): void {
    if (this.done) return;
    if (this.state !== 'header' || this.headerFill !== 0) {
      this.stop({ kind: 'corrupt', detail: 'archive ends in the middle of an entry (truncated)' });
    }
    this.ended = true;
  }

  private startBody(size: number, onBody: ((body: Buffer) => void) | null): void {
    this.remaining = size;
    this.padding = (BLOCK - (size % BLOCK)) % BLOCK;
    this.collect = onBody ? [] : null;
    this.onBody = onBody;
    this.state = size > 0 ? 'body' : this.padding > 0 ? 'pad' : 'header';
    if (size === 0) this.finishBody();
  }

  private finishBody(): void {
    const onBody = this.onBody;
    const body = this.collect ? Buffer.concat(this.collect) : null;
    this.collect = null;
    this.onBody = null;
    this.state = this.padding > 0 ? 'pad' : 'header';
    if (onBody && body) onBody(body);
  }

  private handleHeader(): void {
    if (isZeroBlock(this.header)) {
      this.zeroBlocks++;
      if (this.zeroBlocks >= 2) {
        this.done = true;
        this.ended = true;
      }
      return;
    }
    this.zeroBlocks = 0;
    const parsed = parseHeader(this.header);
    if (!parsed.ok) return this.stop({ kind: 'corrupt', detail: parsed.reason });
    const h = parsed.header;
    if (h.type === 'x' || h.type === 'g' || h.type === 'L' || h.type === 'K') {
      if (h.size > MAX_META_BYTES) {
        return this.stop({ kind: 'limit-exceeded', detail: `metadata entry of ${h.size} bytes` });
      }
      return this.startBody(h.size, (body) => {
        if (h.type === 'x') this.pax = parsePax(body);
        else if (h.type === 'L') this.longName = gnuLongName(body);
        else if (h.type === 'K') this.longLink = gnuLongName(body);
        // Global pax headers ('g') carry no per-entry path and are ignored, as npm's tar does.
      });
    }
    const rawPath = this.pax.path ?? this.longName ?? (h.prefix ? `${h.prefix}/${h.name}` : h.name);
    const linkPath = this.pax.linkpath ?? this.longLink ?? h.linkname;
    const paxSize = this.pax.size === undefined ? Number.NaN : Number(this.pax.size);
    const size = Number.isSafeInteger(paxSize) && paxSize >= 0 ? paxSize : h.size;
    this.pax = {};
    this.longName = undefined;
    this.longLink = undefined;
    this.handleEntry({ type: h.type, rawPath, linkPath, size });
  }

  private handleEntry(entry: { type: string; rawPath: string; linkPath: string; size: number }): void {
    const { limits } = this.options;
    const { type, rawPath, linkPath, size } = entry;
    const isFile = type === '0' || type === '\0' || type === '7' || type === '';
    // Links and special files carry no body in well-formed archives; skip whatever they declare.
    const bodySize = isFile || !['1', '2', '3', '4', '5', '6'].includes(type) ? size : 0;
    if (rawPath.length > limits.maxPathLength) {
      this.issue({
        kind: 'limit-exceeded',
        path: rawPath,
        detail: `entry path longer than ${limits.maxPathLength}`,
      });
      return this.startBody(bodySize, null);
    }
    const check = checkEntryPath(rawPath);
    if (!check.ok) {
      this.issue({ kind: check.kind, path: rawPath, detail: check.detail });
      return this.startBody(bodySize, null);
    }
    const path = check.path;
    if (type !== '5') this.fileCount++;
    if (this.fileCount > limits.maxFiles) {
      return this.stop({ kind: 'limit-exceeded', detail: `more than ${limits.maxFiles} entries` });
    }
    if (type === '1' || type === '2') {
      const inside =
        type === '2' ? path !== null && symlinkStaysInside(path, linkPath) : hardlinkStaysInside(linkPath);
      if (!inside) {
        const what = type === '2' ? 'symbolic' : 'hard';
        this.issue({
          kind: 'link-outside',
          path: rawPath,
          detail: `${what} link to ${clip(linkPath)} points outside the package`,
        });
      }
      return this.startBody(0, null);
    }
    if (type === '3' || type === '4' || type === '6') {
      const what = type === '6' ? 'FIFO' : 'device file';
      this.issue({ kind: 'special-file', path: rawPath, detail: `${what} in the archive` });
      return this.startBody(0, null);
    }
    if (!isFile) return this.startBody(bodySize, null); // directories, unsupported types: npm skips them
    if (size > limits.maxFileBytes) {
      return this.stop({
        kind: 'limit-exceeded',
        path: rawPath,
        detail: `file of ${size} bytes (limit ${limits.maxFileBytes})`,
      });
    }
    this.unpackedBytes += size;
    if (this.unpackedBytes > limits.maxUnpackedBytes) {
      return this.stop({
        kind: 'limit-exceeded',
        detail: `unpacked size above ${limits.maxUnpackedBytes} bytes`,
      });
    }
    if (path === null) return this.startBody(size, null);
    this.allPaths.add(path);
    if (!this.options.keep(path, size)) return this.startBody(size, null);
    if (size > limits.maxScanFileBytes || this.keptBytes + size > limits.maxScanTotalBytes) {
      this.skipped.push({ path, reason: `not scanned: ${size} bytes is above the scan limit` });
      return this.startBody(size, null);
    }
    this.keptBytes += size;
    this.startBody(size, (bytes) => {
      const previous = this.files.get(path);
      if (previous) this.keptBytes -= previous.bytes.length;
      this.files.set(path, { path, bytes });
    });
  }
}

function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

export async function readTarball(
  tarball: Uint8Array,
  options: ReadTarballOptions,
): Promise<TarballContents> {
  const { limits } = options;
  const stream = new TarStream(options);
  const gzip = isGzip(tarball);
  const input = Buffer.from(tarball.buffer, tarball.byteOffset, tarball.byteLength);
  if (input.length > limits.maxCompressedBytes) {
    stream.issue({
      kind: 'limit-exceeded',
      detail: `tarball of ${input.length} bytes (limit ${limits.maxCompressedBytes})`,
    });
  } else if (input.length === 0) {
    stream.issue({ kind: 'corrupt', detail: 'empty tarball' });
  } else if (!gzip) {
    stream.write(input);
    stream.finish();
  } else {
    // Headers and padding add to the content; allow them on top of the unpacked limit.
    const maxInflated = limits.maxUnpackedBytes + Math.max(64 * 1024 * 1024, limits.maxFiles * 2 * BLOCK);
    let inflated = 0;
    const gunzip = createGunzip({ chunkSize: 64 * 1024 });
    gunzip.end(input);
    try {
      for await (const chunk of gunzip as AsyncIterable<Buffer>) {
        inflated += chunk.length;
        if (inflated > maxInflated) {
          stream.issue({ kind: 'limit-exceeded', detail: `decompressed stream above ${maxInflated} bytes` });
          stream.done = true;
          break;
        }
        stream.write(chunk);
        if (stream.done) break;
      }
      stream.finish();
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      stream.issue({ kind: 'corrupt', detail: `gzip: ${clip(message)}` });
    } finally {
      gunzip.destroy();
    }
  }
  return {
    extraction: {
      complete:
        stream.ended && !stream.issues.some((i) => i.kind === 'corrupt' || i.kind === 'limit-exceeded'),
      gzip,
      compressedBytes: input.length,
      unpackedBytes: stream.unpackedBytes,
      fileCount: stream.fileCount,
      issues: stream.issues,
    },
    files: stream.files,
    allPaths: stream.allPaths,
    skipped: stream.skipped,
  };
}
