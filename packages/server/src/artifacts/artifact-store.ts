import { createHash, randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { BugError, RemoteError, SecureRegistryError } from '@secure-registry/shared';

/**
 * Where verified tarballs are kept, content-addressed by their sha512: the one interface the
 * pipeline, the registry routes and the investigation service use. Two backends implement it: a
 * local directory (the default, below) and an S3-compatible bucket (./s3-artifact-store.ts).
 */
export interface ArtifactStore {
  /** Stores the bytes (idempotent: the same bytes get the same key, written once) and returns the key. */
  put(bytes: Uint8Array): Promise<string>;
  /**
   * The bytes stored under `key`, re-hashed against the sha512 the key names: throws
   * ERR_SR_ARTIFACT_MISSING when absent and ERR_SR_ARTIFACT_TAMPERED when they differ (never returned).
   */
  read(key: string): Promise<Buffer>;
  /** Whether bytes are stored under `key` (no integrity check: `read` does that). */
  exists(key: string): Promise<boolean>;
}

const KEY_PATTERN = /^sha512\/([0-9a-f]{2})\/([0-9a-f]{128})\.tgz$/;

/** The store key of bytes with this sha512 hex digest: `sha512/<hex[0:2]>/<hex>.tgz`. */
export function artifactKey(sha512Hex: string): string {
  if (!/^[0-9a-f]{128}$/.test(sha512Hex)) throw new TypeError('not a sha512 hex digest');
  return `sha512/${sha512Hex.slice(0, 2)}/${sha512Hex}.tgz`;
}

/** The sha512 hex digest a key names; throws on anything that is not a store key (`..` included). */
export function digestOfKey(key: string): string {
  const match = KEY_PATTERN.exec(key);
  if (!match || match[1] !== match[2]!.slice(0, 2)) {
    throw new BugError('ERR_SR_INVALID_ARTIFACT_KEY', `invalid artifact path ${JSON.stringify(key)}`);
  }
  return match[2]!;
}

/** The key of these bytes. */
export function keyOf(bytes: Uint8Array): string {
  return artifactKey(createHash('sha512').update(bytes).digest('hex'));
}

export function artifactMissing(key: string, cause?: unknown): RemoteError {
  return new RemoteError('ERR_SR_ARTIFACT_MISSING', `the stored artifact ${key} is missing`, { cause });
}

/** True for the error `read` throws when nothing is stored under the key. */
export function isArtifactMissing(error: unknown): boolean {
  return error instanceof SecureRegistryError && error.code === 'ERR_SR_ARTIFACT_MISSING';
}

/**
 * The bytes read for `key`, proven to hash to the sha512 the key names; fails closed otherwise
 * (a tampered or corrupted object is never served or analysed).
 */
export function verifiedRead(key: string, bytes: Buffer): Buffer {
  const expected = digestOfKey(key);
  const actual = createHash('sha512').update(bytes).digest('hex');
  if (actual !== expected) {
    throw new RemoteError(
      'ERR_SR_ARTIFACT_TAMPERED',
      `the stored artifact ${key} does not hash to its sha512 (got ${actual.slice(0, 16)}…); it is not used`,
      { hint: 'the storage was changed outside secure-registry: remove the object so it is fetched again' },
    );
  }
  return bytes;
}

/**
 * Tarballs stored content-addressed under `<dataDir>/artifacts/sha512/<hex[0:2]>/<hex>.tgz`,
 * written atomically (a temporary file in the same directory, fsync, rename). A failed write (a
 * full disk) removes its temporary file; start-up removes those a killed process left behind.
 */
export class LocalArtifactStore implements ArtifactStore {
  readonly root: string;
  constructor(dataDir: string) {
    this.root = join(dataDir, 'artifacts');
  }

  /** Stores the bytes (idempotent) and returns the relative path. */
  async put(bytes: Uint8Array): Promise<string> {
    const relative = keyOf(bytes);
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
    digestOfKey(relativePath);
    const bytes = await readFile(join(this.root, relativePath)).catch((error: NodeJS.ErrnoException) => {
      throw error.code === 'ENOENT' ? artifactMissing(relativePath, error) : error;
    });
    return verifiedRead(relativePath, bytes);
  }

  async exists(relativePath: string): Promise<boolean> {
    digestOfKey(relativePath);
    const found = await stat(join(this.root, relativePath)).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return undefined;
      throw error;
    });
    return found?.isFile() ?? false;
  }
}

function ignoreMissing(error: unknown): undefined {
  if ((error as { code?: unknown }).code === 'ENOENT' || (error as { code?: unknown }).code === 'ENOTDIR') {
    return undefined;
  }
  throw error;
}
