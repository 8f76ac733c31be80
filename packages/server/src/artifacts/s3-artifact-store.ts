import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { RemoteError, redact } from '@secure-registry/shared';
import type { ArtifactStore } from './artifact-store.js';
import { artifactMissing, digestOfKey, keyOf, verifiedRead } from './artifact-store.js';

export interface S3StoreOptions {
  bucket: string;
  /** Prepended to every key (`team-a/` → `team-a/sha512/…`); '' for none. */
  prefix: string;
  /** An S3-compatible endpoint (MinIO, R2, …); undefined: AWS. */
  endpoint: string | undefined;
  region: string;
  forcePathStyle: boolean;
  /** Explicit credentials; undefined: the AWS SDK's standard chain (profile, SSO, instance role…). */
  credentials?:
    { accessKeyId: string; secretAccessKey: string; sessionToken?: string | undefined } | undefined;
}

/** A key absent from the bucket, probed at start-up: NoSuchKey proves the bucket is reachable. */
const PROBE_KEY = '.secure-registry-probe';

type S3Failure = Error & { $metadata?: { httpStatusCode?: number }; code?: string };

/**
 * Tarballs in an S3-compatible bucket under `<prefix>sha512/<hex[0:2]>/<hex>.tgz`. Writes are
 * idempotent (HeadObject first); every read re-hashes the object against its key (fail closed).
 * Errors are domain errors (ERR_SR_ARTIFACT_STORE_*) whose messages never carry credentials.
 */
export class S3ArtifactStore implements ArtifactStore {
  private readonly client: S3Client;
  private readonly where: string;

  private constructor(private readonly options: S3StoreOptions) {
    this.client = new S3Client({
      region: options.region,
      forcePathStyle: options.forcePathStyle,
      ...(options.endpoint ? { endpoint: options.endpoint } : {}),
      ...(options.credentials ? { credentials: options.credentials } : {}),
      requestHandler: { connectionTimeout: 10_000, requestTimeout: 120_000 },
    });
    this.where = redact(
      `s3://${options.bucket}/${options.prefix}${options.endpoint ? ` at ${options.endpoint}` : ''}`,
    );
  }

  /** Opens the store and checks that the bucket is reachable with these credentials. */
  static async open(options: S3StoreOptions): Promise<S3ArtifactStore> {
    const store = new S3ArtifactStore({ ...options, prefix: normalizePrefix(options.prefix) });
    await store.check();
    return store;
  }

  describe(): string {
    return this.where;
  }

  private async check(): Promise<void> {
    try {
      await this.client.send(
        new GetObjectCommand({ Bucket: this.options.bucket, Key: this.objectKey(PROBE_KEY) }),
      );
    } catch (error) {
      if (nameOf(error) === 'NoSuchKey') return;
      throw this.storeError(error, 'checking the bucket');
    }
  }

  async put(bytes: Uint8Array): Promise<string> {
    const key = keyOf(bytes);
    const head = await this.head(key);
    if (head !== undefined && head === bytes.byteLength) return key;
    try {
      await this.client.send(
        new PutObjectCommand({
          Bucket: this.options.bucket,
          Key: this.objectKey(key),
          Body: bytes,
          ContentType: 'application/octet-stream',
        }),
      );
    } catch (error) {
      throw this.storeError(error, `storing ${key}`);
    }
    return key;
  }

  async read(key: string): Promise<Buffer> {
    digestOfKey(key);
    let body: AsyncIterable<Uint8Array>;
    try {
      const response = await this.client.send(
        new GetObjectCommand({ Bucket: this.options.bucket, Key: this.objectKey(key) }),
      );
      body = response.Body as AsyncIterable<Uint8Array>;
    } catch (error) {
      if (nameOf(error) === 'NoSuchKey') throw artifactMissing(key, error);
      throw this.storeError(error, `reading ${key}`);
    }
    const chunks: Buffer[] = [];
    try {
      for await (const chunk of body) chunks.push(Buffer.from(chunk));
    } catch (error) {
      throw this.storeError(error, `reading ${key}`);
    }
    return verifiedRead(key, Buffer.concat(chunks));
  }

  async exists(key: string): Promise<boolean> {
    digestOfKey(key);
    return (await this.head(key)) !== undefined;
  }

  close(): void {
    this.client.destroy();
  }

  /** The stored object's size, or undefined when there is none. */
  private async head(key: string): Promise<number | undefined> {
    try {
      const response = await this.client.send(
        new HeadObjectCommand({ Bucket: this.options.bucket, Key: this.objectKey(key) }),
      );
      return response.ContentLength ?? 0;
    } catch (error) {
      if (nameOf(error) === 'NotFound' || nameOf(error) === 'NoSuchKey') return undefined;
      throw this.storeError(error, `looking up ${key}`);
    }
  }

  private objectKey(key: string): string {
    return `${this.options.prefix}${key}`;
  }

  /** The domain error for a failed S3 call: no bucket, refused credentials, unreachable, or other. */
  private storeError(error: unknown, doing: string): RemoteError {
    const name = nameOf(error);
    const status = (error as S3Failure).$metadata?.httpStatusCode;
    const where = this.where;
    if (name === 'NoSuchBucket') {
      return new RemoteError(
        'ERR_SR_ARTIFACT_STORE_NO_BUCKET',
        `${doing}: the bucket of ${where} does not exist`,
        {
          hint: 'create the bucket or fix SR_S3_BUCKET / SR_S3_ENDPOINT',
          cause: error,
        },
      );
    }
    if (
      status === 401 ||
      status === 403 ||
      /^(InvalidAccessKeyId|SignatureDoesNotMatch|AccessDenied|ExpiredToken|InvalidToken|CredentialsProviderError)$/.test(
        name,
      )
    ) {
      return new RemoteError(
        'ERR_SR_ARTIFACT_STORE_AUTH',
        `${doing}: ${where} refused the credentials (${name}${status ? `, HTTP ${status}` : ''})`,
        {
          hint: 'check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (or the profile); the store needs s3:GetObject, s3:PutObject and s3:ListBucket',
          cause: error,
        },
      );
    }
    if (status === undefined) {
      return new RemoteError(
        'ERR_SR_ARTIFACT_STORE_UNREACHABLE',
        `${doing}: ${where} is unreachable (${(error as S3Failure).code ?? name})`,
        { hint: 'check SR_S3_ENDPOINT / SR_S3_REGION and the network', cause: error },
      );
    }
    return new RemoteError(
      'ERR_SR_ARTIFACT_STORE_FAILED',
      `${doing}: ${where} answered ${name} (HTTP ${status})`,
      {
        cause: error,
      },
    );
  }
}

function nameOf(error: unknown): string {
  return error instanceof Error ? error.name : 'Error';
}

/** '' stays ''; `a/b` and `/a/b/` become `a/b/`. */
export function normalizePrefix(prefix: string): string {
  const trimmed = prefix.replace(/^\/+|\/+$/g, '');
  return trimmed ? `${trimmed}/` : '';
}
