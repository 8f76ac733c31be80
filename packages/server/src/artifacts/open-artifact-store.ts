import type { ArtifactStore } from './artifact-store.js';
import { LocalArtifactStore } from './artifact-store.js';
import { S3ArtifactStore } from './s3-artifact-store.js';
import type { S3StoreOptions } from './s3-artifact-store.js';

/** Which artifact store the server uses (SR_ARTIFACT_STORE): the data directory, or a bucket. */
export type ArtifactStoreConfig = { kind: 'local' } | ({ kind: 's3' } & S3StoreOptions);

/** Opens the configured store; an S3 bucket is checked for reachability first (a RemoteError if not). */
export async function openArtifactStore(
  config: ArtifactStoreConfig,
  dataDir: string,
): Promise<{ artifacts: ArtifactStore; description: string; close(): void }> {
  if (config.kind === 'local') {
    const artifacts = new LocalArtifactStore(dataDir);
    return { artifacts, description: artifacts.root, close: () => undefined };
  }
  const { kind: _kind, ...options } = config;
  const artifacts = await S3ArtifactStore.open(options);
  return { artifacts, description: artifacts.describe(), close: () => artifacts.close() };
}
