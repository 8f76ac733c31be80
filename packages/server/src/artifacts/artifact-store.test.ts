import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ArtifactStore } from './artifact-store.js';

test('bytes are stored once, content-addressed by sha512, with no temp files left', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'sr-artifacts-'));
  try {
    const store = new ArtifactStore(dataDir);
    const bytes = Buffer.from('tarball');
    const hex = createHash('sha512').update(bytes).digest('hex');
    const [a, b] = await Promise.all([store.put(bytes), store.put(bytes)]);
    assert.equal(a, `sha512/${hex.slice(0, 2)}/${hex}.tgz`);
    assert.equal(b, a);
    assert.deepEqual(await store.read(a), bytes);
    assert.deepEqual(await readdir(join(dataDir, 'artifacts', 'sha512', hex.slice(0, 2))), [`${hex}.tgz`]);
    await assert.rejects(store.read('../secure-registry.db'), /invalid/);
    assert.throws(() => ArtifactStore.relativePath('../../x'), /sha512/);
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
});

test('13.9: start-up removes the stale partial *.tmp files, not a live write nor a stored artifact', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'sr-artifacts-'));
  try {
    const store = new ArtifactStore(dataDir);
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
