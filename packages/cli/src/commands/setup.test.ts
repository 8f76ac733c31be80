import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { checkSandboxSupport } from '@secure-registry/analyzer';
import { runCli } from '../test-support/run-cli.js';

test('setup --no-install reports what the sandbox check finds on this machine, installing nothing', async () => {
  const support = await checkSandboxSupport();
  const result = await runCli(['setup', '--no-install'], {}, 120_000);
  if (support.ok) {
    assert.equal(result.code, 0, result.stderr);
    assert.match(
      result.stdout,
      /^setup: sandbox ready: the install, import and browser phases run in bubblewrap/,
    );
  } else {
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stdout, /sandbox not available \(missing: /);
    assert.match(result.stdout, /secure-registry login --server URL --token T/);
  }
});
