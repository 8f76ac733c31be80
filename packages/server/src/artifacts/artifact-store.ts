import { createHash, randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';

/**
 * Tarballs stored content-addressed under `<dataDir>/artifacts/sha512/<hex[0:2]>/<hex>.tgz`,
 * written atomically (a temporary file in the same directory, fsync, rename). A failed write (a
 * full disk) removes its temporary file; start-up removes those a killed process left behind.
 */
export class ArtifactStore {
  readonly root: string;
  constructor(dataDir: string) {
    this.root = join(dataDir, 'artifacts');
  }

  /** The path relative to the store for bytes with this sha512 hex digest. */
  static relativePath(sha512Hex: string): string {
    if (!/^[0-9a-f]{128}$/.test(sha512Hex)) throw new TypeError('not a sha512 hex digest');
    return `sha512/${sha512Hex.slice(0, 2)}/${sha512Hex}.tgz`;
  }

  /** Stores the bytes (idempotent) and returns the relative path. */
  async put(bytes: Uint8Array): Promise<string> {
    const hex = createHash('sha512').update(bytes).digest('hex');
    const relative = ArtifactStore.relativePath(hex);
    const target = join(this.root, relative);
    const existing = await stat(target).catch(() => undefined);
    if (existing?.isFile() && existing.size === bytes.byteLength) return relative;
    await mkdir(dirname(target), { recursive: true });
    const temp = `${target}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
    try {
      const handle = await open(temp, 'wx', 0o644);
      try {
        await handle.writeFile(bytes);
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(temp, target);
    } catch (error) {
      await rm(temp, { force: true });
      throw error;
    }
    return relative;
  }

  /**
   * Removes the partial `*.tmp` files of writes that never finished (a killed process, a full disk)
   * and were last written more than `olderThanMs` ago (a live write of another process on the same
   * store is younger). Returns how many were removed.
   */
  async removeStaleTemporaryFiles(olderThanMs = 60_000, now = Date.now()): Promise<number> {
    const shards = await readdir(join(this.root, 'sha512')).catch(ignoreMissing);
    let removed = 0;
    for (const shard of shards ?? []) {
      const dir = join(this.root, 'sha512', shard);
      for (const name of (await readdir(dir).catch(ignoreMissing)) ?? []) {
        if (!name.endsWith('.tmp')) continue;
        const file = join(dir, name);
        const stats = await stat(file).catch(ignoreMissing);
        if (!stats?.isFile() || now - stats.mtimeMs < olderThanMs) continue;
        await rm(file, { force: true });
        removed++;
      }
    }
    return removed;
  }

  async read(relativePath: string): Promise<Buffer> {
    if (relativePath.includes('..')) throw new TypeError('invalid artifact path');
    return readFile(join(this.root, relativePath));
  }
}

function ignoreMissing(error: unknown): undefined {
  if ((error as { code?: unknown }).code === 'ENOENT' || (error as { code?: unknown }).code === 'ENOTDIR') {
    return undefined;
  }
  throw error;
}
