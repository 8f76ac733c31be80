/**
 * Disk full (issue 13 item 9): recognising "no space left" from every writer (the artifact store,
 * SQLite, PostgreSQL, the sandbox's host temp dirs) and telling `/healthz` while the data directory
 * has no room. Cheap: one statfs per health check, nothing on the hot path but `noteError`.
 */
import { statfs } from 'node:fs/promises';

/** SQLite's primary result code SQLITE_FULL ("database or disk is full"). */
const SQLITE_FULL = 13;
/** Space freed since a disk-full failure (at least) that ends it before `recentMs`. */
const FREED_BYTES = 1024 * 1024;
/** PostgreSQL's SQLSTATE disk_full. */
const PG_DISK_FULL = '53100';

/**
 * True when the error (or one of its causes) says the disk is full: ENOSPC/EDQUOT from the file
 * system, SQLITE_FULL from node:sqlite, 53100 from PostgreSQL.
 */
export function isDiskFull(error: unknown): boolean {
  for (let current = error, depth = 0; current && depth < 8; depth++) {
    if (typeof current !== 'object') return false;
    const { code, errcode, cause } = current as { code?: unknown; errcode?: unknown; cause?: unknown };
    if (code === 'ENOSPC' || code === 'EDQUOT' || code === PG_DISK_FULL) return true;
    if (typeof errcode === 'number' && (errcode & 0xff) === SQLITE_FULL) return true;
    current = cause;
  }
  return false;
}

/** A disk-full failure of an analysis: infrastructure, never a verdict about the package. */
export class DiskFullError extends Error {
  override readonly name = 'DiskFullError';
  readonly code = 'ERR_SR_DISK_FULL';
}

export interface DiskSpaceOptions {
  /** The data directory (SQLite file, artifact store). */
  dir: string;
  /** Below this many free bytes the data directory counts as full. */
  minFreeBytes: number;
  /** How long a seen ENOSPC keeps the health check failing unless space was freed since (ms). */
  recentMs?: number;
  now?: () => number;
}

export type DiskSpaceStatus = { ok: true; freeBytes: number | undefined } | { ok: false; reason: string };

/**
 * The data directory's free space and the last disk-full failure seen. Unhealthy while statfs
 * shows less than `minFreeBytes` free, or after a disk-full failure until space was freed
 * (`minFreeBytes`, at least 1 MiB, more than when it failed) or `recentMs` passed.
 */
export class DiskSpaceMonitor {
  private lastFull: { at: number; freeBytes: number | undefined; message: string } | undefined;
  private readonly now: () => number;

  constructor(private readonly options: DiskSpaceOptions) {
    this.now = options.now ?? Date.now;
  }

  /** Records the error when it is a disk-full one; returns whether it was. */
  noteError(error: unknown): boolean {
    if (!isDiskFull(error)) return false;
    const message = error instanceof Error ? error.message : String(error);
    const recorded = { at: this.now(), freeBytes: undefined as number | undefined, message };
    this.lastFull = recorded;
    void this.freeBytes().then((free) => {
      if (this.lastFull === recorded) recorded.freeBytes = free;
    });
    return true;
  }

  async status(): Promise<DiskSpaceStatus> {
    const free = await this.freeBytes();
    const { dir, minFreeBytes } = this.options;
    if (free !== undefined && free < minFreeBytes) {
      return {
        ok: false,
        reason: `no space in the data directory ${dir}: ${free} bytes free (SR_MIN_FREE_BYTES ${minFreeBytes})`,
      };
    }
    const last = this.lastFull;
    if (last) {
      const freed =
        free !== undefined &&
        last.freeBytes !== undefined &&
        free >= last.freeBytes + Math.max(minFreeBytes, FREED_BYTES);
      if (freed || this.now() - last.at > (this.options.recentMs ?? 60_000)) this.lastFull = undefined;
      else {
        const ago = Math.round((this.now() - last.at) / 1000);
        return { ok: false, reason: `disk full ${ago} s ago: ${last.message.slice(0, 300)}` };
      }
    }
    return { ok: true, freeBytes: free };
  }

  private async freeBytes(): Promise<number | undefined> {
    try {
      const stats = await statfs(this.options.dir);
      return Number(stats.bavail) * Number(stats.bsize);
    } catch (error) {
      // The directory is not there (yet): only seen failures count.
      if ((error as { code?: unknown }).code === 'ENOENT') return undefined;
      throw error;
    }
  }
}
