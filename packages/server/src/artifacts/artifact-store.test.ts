import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
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
