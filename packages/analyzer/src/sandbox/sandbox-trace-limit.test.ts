import { strict as assert } from 'node:assert';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { describeRun, runFixture } from './test-support/fixtures.js';

test('a flood of system calls ends the run at the trace limit, never as a completed run', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sr-flood-'));
  try {
    await writeFile(
      join(dir, 'package.json'),
      JSON.stringify({
        name: 'syscall-flood',
        version: '1.0.0',
        scripts: { postinstall: 'node flood.js' },
      }),
    );
    // Each failed open is a line of trace; the loop writes megabytes of it a second.
    await writeFile(
      join(dir, 'flood.js'),
      "const fs = require('fs'); for (let i = 0; ; i++) { try { fs.openSync('/nonexistent/' + i); } catch {} }",
    );
    const run = await runFixture(dir, 'install', { maxTraceMb: 2, timeoutMs: 60_000 });
    assert.equal(run.status, 'crashed', describeRun(run));
    assert.match(run.error ?? '', /the trace grew past 2 MiB/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
