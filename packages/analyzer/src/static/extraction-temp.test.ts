import { strict as assert } from 'node:assert';
import { existsSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { extractionTempRoot, makeExtractionDir } from './extraction-temp.js';

test('extraction directories go to /dev/shm when it exists, else the temporary directory', () => {
  const expected = existsSync('/dev/shm') && statSync('/dev/shm').isDirectory() ? '/dev/shm' : tmpdir();
  assert.equal(extractionTempRoot({}), expected);
});

test('SR_EXTRACT_TMPDIR names the root; a missing directory is ignored', async () => {
  const root = await mkdtemp(join(tmpdir(), 'sr-root-'));
  try {
    assert.equal(extractionTempRoot({ SR_EXTRACT_TMPDIR: root }), root);
    assert.equal(extractionTempRoot({ SR_EXTRACT_TMPDIR: join(root, 'missing') }), extractionTempRoot({}));
    const dir = await makeExtractionDir('sr-tar-', root);
    assert.ok(dir.startsWith(join(root, 'sr-tar-')));
    assert.equal(statSync(dir).mode & 0o777, 0o700);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
