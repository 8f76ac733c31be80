import { strict as assert } from 'node:assert';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { ScanSummary } from '@secure-registry/shared';
import { namePatternAnalyzer } from '../test-support/analyzers.js';
import { FakeUpstream } from '../test-support/fake-upstream.js';
import { makeGraph } from '../test-support/graph.js';
import { startTestServer } from '../test-support/harness.js';
import { artifactKey } from './artifact-store.js';
import { startS3Server } from './test-support/s3-server.js';

test('a server on the S3 store scans a package into the bucket and serves it from there, never a tampered one', async () => {
  const s3 = await startS3Server();
  const upstream = await new FakeUpstream().start();
  const built = await upstream.add({
    name: 'shared-pkg',
    version: '1.0.0',
    files: { 'index.js': 'module.exports = 1;\n' },
  });
  const server = await startTestServer({
    upstream: upstream.url,
    analyzer: namePatternAnalyzer(),
    artifactStore: { kind: 's3', ...s3.options({ prefix: 'team' }) },
  });
  try {
    const graph = makeGraph(
      [{ name: 'shared-pkg', version: '1.0.0', integrity: built.integrity }],
      ['shared-pkg'],
    );
    const created = await server.json<ScanSummary>('POST', '/api/v1/scans', { graph });
    assert.equal(created.status, 201);
    const result = await server.waitForScan(created.body.id);
    assert.equal(result.packages[0]?.state, 'approved');

    // The artifact is in the bucket under the prefix, content-addressed; nothing under the data dir.
    const key = artifactKey(Buffer.from(built.integrity.slice('sha512-'.length), 'base64').toString('hex'));
    assert.deepEqual(await s3.getRaw(`team/${key}`), built.bytes);
    assert.equal(existsSync(join(server.dataDir, 'artifacts')), false);
    // Changed in the bucket: re-checked on read and not served; put back, served from the bucket.
    const tarballUrl = `${server.url}/shared-pkg/-/shared-pkg-1.0.0.tgz`;
    await s3.putRaw(`team/${key}`, Buffer.from('not the approved tarball'));
    const refused = await fetch(tarballUrl);
    assert.equal(refused.status, 500);
    assert.match(
      ((await refused.json()) as { error: string }).error,
      /does not match its approved integrity/,
    );
    await s3.putRaw(`team/${key}`, built.bytes);
    const served = await fetch(tarballUrl);
    assert.equal(served.status, 200);
    assert.deepEqual(Buffer.from(await served.arrayBuffer()), built.bytes);
  } finally {
    await server.dispose();
    await upstream.close();
    await s3.close();
  }
});
