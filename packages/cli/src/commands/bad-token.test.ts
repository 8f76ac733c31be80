import { strict as assert } from 'node:assert';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { runCli, startReviewServer } from './test-support/review-server.js';
import type { ReviewServer } from './test-support/review-server.js';

const DEMO = fileURLToPath(new URL('../../../../examples/demo-project', import.meta.url));

describe('a token the server refuses is a usage/auth error (exit 3), not a network failure (4)', () => {
  let s: ReviewServer;
  before(async () => {
    s = await startReviewServer();
  });
  after(() => s.dispose());

  test('scan and review list with a bad token exit 3 and say how to log in', async () => {
    for (const args of [
      ['scan', DEMO],
      ['review', 'list'],
    ]) {
      const result = await runCli(args, s.env('srt_not-a-real-token'));
      assert.equal(result.code, 3, `${args.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, /401/);
      assert.match(result.stderr, /login|SECURE_REGISTRY_TOKEN/);
    }
  });
});
