import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { SecureRegistryError } from '@secure-registry/shared';
import type { ArtifactStore } from './artifact-store.js';
import { LocalArtifactStore, artifactKey, isArtifactMissing } from './artifact-store.js';
import { S3ArtifactStore } from './s3-artifact-store.js';
import { startS3Server } from './test-support/s3-server.js';

interface Backend {
  store: ArtifactStore;
  /** Writes other bytes under `key` behind the store's back. */
  tamper(key: string, bytes: Uint8Array): Promise<void>;
  /** How many objects the backend holds for `key`'s shard, and how many writes it has seen. */
  written(key: string): Promise<{ objects: string[]; writes: number }>;
  dispose(): Promise<void>;
}

/** One contract, both backends: the local directory and an S3 bucket behind a real S3 server. */
const BACKENDS: Record<string, () => Promise<Backend>> = {
  async local() {
    const dataDir = await mkdtemp(join(tmpdir(), 'sr-artifacts-'));
    const store = new LocalArtifactStore(dataDir);
    return {
      store,
      tamper: (key, bytes) => writeFile(join(store.root, key), bytes),
      async written(key) {
        const objects = await readdir(join(store.root, key, '..'));
        return { objects, writes: objects.length };
      },
      dispose: () => rm(dataDir, { recursive: true, force: true }),
    };
  },
  async s3() {
    const s3 = await startS3Server();
    const store = await S3ArtifactStore.open(s3.options({ prefix: 'replicas/' }));
    return {
      store,
      tamper: (key, bytes) => s3.putRaw(`replicas/${key}`, bytes),
      async written(key) {
        const present = await s3.getRaw(`replicas/${key}`);
        return { objects: present ? [key.split('/').pop()!] : [], writes: s3.puts() };
      },
      async dispose() {
        store.close();
        await s3.close();
      },
    };
  },
};

async function rejectsWithCode(promise: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof SecureRegistryError, String(error));
    assert.equal(error.code, code);
    return true;
  });
}

for (const [name, open] of Object.entries(BACKENDS)) {
  describe(`artifact store: ${name}`, () => {
    test('bytes are stored once, content-addressed by sha512, and read back', async () => {
      const backend = await open();
      try {
        const { store } = backend;
        const bytes = Buffer.from(`tarball of ${name}`);
        const hex = createHash('sha512').update(bytes).digest('hex');
        const [a, b] = await Promise.all([store.put(bytes), store.put(bytes)]);
        assert.equal(a, `sha512/${hex.slice(0, 2)}/${hex}.tgz`);
        assert.equal(b, a);
        const before = await backend.written(a);
        assert.deepEqual(before.objects, [`${hex}.tgz`]);
        // Once present, the same bytes are not written again.
        assert.equal(await store.put(bytes), a);
        assert.deepEqual(await backend.written(a), before);
        assert.deepEqual(await store.read(a), bytes);
        assert.equal(await store.exists(a), true);
        const absent = artifactKey('0'.repeat(128));
        assert.equal(await store.exists(absent), false);
        await assert.rejects(store.read(absent), (error) => isArtifactMissing(error));
        await assert.rejects(store.read('../secure-registry.db'), /invalid/);
        await assert.rejects(store.read(`sha512/00/${hex}.tgz`), /invalid/);
        assert.throws(() => artifactKey('../../x'), /sha512/);
      } finally {
        await backend.dispose();
      }
    });

    test('a tampered object is an error on read, never returned', async () => {
      const backend = await open();
      try {
        const key = await backend.store.put(Buffer.from('the approved bytes'));
        await backend.tamper(key, Buffer.from('the attacker bytes'));
        await rejectsWithCode(backend.store.read(key), 'ERR_SR_ARTIFACT_TAMPERED');
      } finally {
        await backend.dispose();
      }
    });
  });
}

describe('S3 artifact store: start-up check and errors', () => {
  test('a missing bucket, refused credentials and an unreachable endpoint are domain errors', async () => {
    const s3 = await startS3Server();
    try {
      await rejectsWithCode(
        S3ArtifactStore.open(s3.options({ bucket: 'no-such-bucket' })),
        'ERR_SR_ARTIFACT_STORE_NO_BUCKET',
      );
      const secret = 'wrong-secret-never-printed';
      await assert.rejects(
        S3ArtifactStore.open(s3.options({ credentials: { accessKeyId: 'S3RVER', secretAccessKey: secret } })),
        (error: unknown) => {
          assert.ok(error instanceof SecureRegistryError);
          assert.equal(error.code, 'ERR_SR_ARTIFACT_STORE_AUTH');
          assert.doesNotMatch(`${error.message} ${error.hint}`, new RegExp(secret));
          return true;
        },
      );
      await rejectsWithCode(
        S3ArtifactStore.open(s3.options({ credentials: { accessKeyId: 'UNKNOWN', secretAccessKey: 'x' } })),
        'ERR_SR_ARTIFACT_STORE_AUTH',
      );
    } finally {
      await s3.close();
    }
    // The server is gone: its port refuses connections.
    await rejectsWithCode(S3ArtifactStore.open(s3.options()), 'ERR_SR_ARTIFACT_STORE_UNREACHABLE');
  });
});

test('13.9: start-up removes the stale partial *.tmp files, not a live write nor a stored artifact', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'sr-artifacts-'));
  try {
    const store = new LocalArtifactStore(dataDir);
    assert.equal(await store.removeStaleTemporaryFiles(), 0, 'an empty store has nothing to remove');
    const stored = await store.put(Buffer.from('kept'));
    const shard = join(store.root, 'sha512', 'ab');
    await mkdir(shard, { recursive: true });
    const stale = join(shard, `${'ab'.repeat(64)}.tgz.4242.0123456789ab.tmp`);
    const live = join(shard, `${'ab'.repeat(64)}.tgz.4343.ba9876543210.tmp`);
    await writeFile(stale, 'partial');
    await writeFile(live, 'being written');
    const hourAgo = new Date(Date.now() - 3_600_000);
    await utimes(stale, hourAgo, hourAgo);
    assert.equal(await store.removeStaleTemporaryFiles(60_000), 1);
    assert.deepEqual(await readdir(shard), [live.slice(shard.length + 1)]);
    assert.deepEqual(await store.read(stored), Buffer.from('kept'));
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
});
