/**
 * Reads stored tarballs and proves, before a byte is served, that they hash to the approved
 * integrity. Verified bytes are kept in a bounded in-memory cache (stored files are
 * content-addressed and never change; bytes in memory were verified when they were read).
 */
import { createHash } from 'node:crypto';
import { strongestHash } from '@secure-registry/shared';
import type { ArtifactRecord } from '../../../storage/store.js';
import { isArtifactMissing } from '../../../artifacts/artifact-store.js';
import { LruCache } from './lru.js';

export type ArtifactReadFailure = 'missing' | 'integrity-mismatch';

/** The stored bytes could not be served: missing, or not the approved bytes. */
export class ArtifactReadError extends Error {
  override readonly name = 'ArtifactReadError';
  constructor(
    readonly failure: ArtifactReadFailure,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** True when `bytes` hash to the strongest hash in `integrity`. */
export function bytesMatchIntegrity(bytes: Uint8Array, integrity: string): boolean {
  const expected = strongestHash(integrity);
  if (!expected) return false;
  const actual = createHash(expected.algorithm).update(bytes).digest('base64');
  return actual === expected.digest;
}

export class VerifiedArtifactReader {
  private readonly cache: LruCache<Buffer>;
  private readonly inflight = new Map<string, Promise<Buffer>>();

  constructor(
    private readonly readBytes: (storagePath: string) => Promise<Uint8Array>,
    maxCacheBytes: number,
  ) {
    this.cache = new LruCache<Buffer>(maxCacheBytes);
  }

  /** The approved bytes of `record`; throws ArtifactReadError when missing or different. */
  async read(
    record: Pick<ArtifactRecord, 'name' | 'version' | 'integrity' | 'storagePath'>,
  ): Promise<Buffer> {
    const storagePath = record.storagePath;
    if (!storagePath) {
      throw new ArtifactReadError('missing', `no stored tarball for ${record.name}@${record.version}`);
    }
    const key = `${storagePath}\n${record.integrity}`;
    const cached = this.cache.get(key);
    if (cached) return cached;
    const running = this.inflight.get(key);
    if (running) return running;
    const promise = this.load(record, storagePath, key).finally(() => this.inflight.delete(key));
    this.inflight.set(key, promise);
    return promise;
  }

  private async load(
    record: Pick<ArtifactRecord, 'name' | 'version' | 'integrity'>,
    storagePath: string,
    key: string,
  ): Promise<Buffer> {
    let bytes: Buffer;
    try {
      const read = await this.readBytes(storagePath);
      bytes = Buffer.isBuffer(read) ? read : Buffer.from(read.buffer, read.byteOffset, read.byteLength);
    } catch (error) {
      if (isArtifactMissing(error)) {
        throw new ArtifactReadError(
          'missing',
          `the stored tarball of ${record.name}@${record.version} is missing`,
          {
            cause: error,
          },
        );
      }
      // The store re-hashed the bytes against their key and found them changed.
      if ((error as { code?: unknown }).code === 'ERR_SR_ARTIFACT_TAMPERED') throw mismatch(record, error);
      throw error;
    }
    if (!bytesMatchIntegrity(bytes, record.integrity)) throw mismatch(record);
    this.cache.set(key, bytes, bytes.byteLength);
    return bytes;
  }
}

function mismatch(record: Pick<ArtifactRecord, 'name' | 'version'>, cause?: unknown): ArtifactReadError {
  return new ArtifactReadError(
    'integrity-mismatch',
    `the stored tarball of ${record.name}@${record.version} does not match its approved integrity; it is not served`,
    { cause },
  );
}
