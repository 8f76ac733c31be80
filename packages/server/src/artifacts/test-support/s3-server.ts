/**
 * A real S3-compatible server (@20minutes/s3rver: SigV4 signatures checked, credentials
 * S3RVER/S3RVER) on 127.0.0.1 with a free port and a temp directory, and a raw client for
 * looking into (and tampering with) the bucket behind the store's back.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import S3rver from '@20minutes/s3rver';
import type { S3StoreOptions } from '../s3-artifact-store.js';

export const S3RVER_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

export interface TestS3Server {
  endpoint: string;
  bucket: string;
  /** Store options for this server's bucket. */
  options(overrides?: Partial<S3StoreOptions>): S3StoreOptions;
  /** Objects created (PutObject) since start. */
  puts(): number;
  putRaw(key: string, bytes: Uint8Array): Promise<void>;
  /** The object's bytes, or undefined when there is none. */
  getRaw(key: string): Promise<Buffer | undefined>;
  close(): Promise<void>;
}

export async function startS3Server(bucket = 'artifacts-test'): Promise<TestS3Server> {
  const directory = await mkdtemp(join(tmpdir(), 'sr-s3rver-'));
  const server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory,
    configureBuckets: [{ name: bucket }],
  });
  let puts = 0;
  server.on('event', () => puts++);
  const { port } = await server.run();
  const endpoint = `http://127.0.0.1:${port}`;
  const raw = new S3Client({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: S3RVER_CREDENTIALS,
  });
  return {
    endpoint,
    bucket,
    options: (overrides = {}) => ({
      bucket,
      prefix: '',
      endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: S3RVER_CREDENTIALS,
      ...overrides,
    }),
    puts: () => puts,
    async putRaw(key, bytes) {
      await raw.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: bytes }));
    },
    async getRaw(key) {
      try {
        const response = await raw.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        return Buffer.from(await response.Body!.transformToByteArray());
      } catch (error) {
        if ((error as Error).name === 'NoSuchKey') return undefined;
        throw error;
      }
    },
    async close() {
      raw.destroy();
      await server.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}
