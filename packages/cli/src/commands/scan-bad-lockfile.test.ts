import { strict as assert } from 'node:assert';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runCli, startReviewServer } from './test-support/review-server.js';
import type { ReviewServer } from './test-support/review-server.js';

// Issue 13 item 14: a lockfile entry of the wrong size is bad input (exit 3, naming the entry),
// not a server failure (exit 4 with a raw zod dump).
describe('scan of an invalid lockfile (built CLI)', () => {
  let world: ReviewServer;
  before(async () => {
    world = await startReviewServer();
  });
  after(async () => world?.dispose());

  test('an over-long version exits 3 with the lockfile entry and the field path', async () => {
    const dir = join(world.home, 'long-version');
    await mkdir(dir, { recursive: true });
    const root = { name: 'p', version: '1.0.0', dependencies: { a: '*' } };
    const lock = {
      name: 'p',
      version: '1.0.0',
      lockfileVersion: 3,
      requires: true,
      packages: { '': root, 'node_modules/a': { version: '1'.repeat(300) } },
    };
    await writeFile(join(dir, 'package.json'), JSON.stringify(root));
    await writeFile(join(dir, 'package-lock.json'), JSON.stringify(lock));
    const result = await runCli(['scan', dir], world.env(world.tokens.ci));
    assert.equal(result.code, 3, result.stderr);
    assert.match(result.stderr, /lockfile entry "node_modules\/a"/);
    assert.match(result.stderr, /graph\.nodes\[0\]\.version/);
    assert.doesNotMatch(result.stderr, /"code": "too_big"/);
  });
});
