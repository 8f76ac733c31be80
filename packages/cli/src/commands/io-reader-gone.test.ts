import { after, before, test } from 'node:test';
import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadScaledTimeout } from '@secure-registry/shared';
import { FakeRegistry, localModeEnv, newProjectDir, writeProject } from '../test-support/fake-registry.js';
import { BIN } from '../test-support/run-cli.js';

// `secure-registry scan --json | head -c 1`: the reader goes away while the CLI writes. The command
// still finishes with its own exit code and no stack trace (it used to die on an unhandled EPIPE).

let work: string;
let registry: FakeRegistry;

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'sr-cli-reader-gone-'));
  registry = new FakeRegistry();
  await registry.start();
});
after(async () => {
  await registry.stop();
  rmSync(work, { recursive: true, force: true });
});

test('a closed stdout does not crash the scan; its exit code is kept', async () => {
  const dir = newProjectDir(work, 'many-git');
  // 400 packages from git: unvettable (exit 2) without any upstream, and a JSON document far
  // larger than a pipe's buffer, so its write fails whenever the reader is closed.
  const extra: Record<string, Record<string, unknown>> = {};
  for (let i = 0; i < 400; i++) {
    extra[`node_modules/zg-${i}`] = {
      version: '1.0.0',
      resolved: `git+ssh://git@example.invalid/zg/zg-${i}.git#${'a'.repeat(40)}`,
    };
  }
  writeProject(dir, { registry, direct: [], extra });
  const child = spawn(process.execPath, [BIN, 'scan', dir, '--json'], {
    env: { PATH: process.env.PATH ?? '', SR_SANDBOX: 'off', CI: 'true', ...localModeEnv(work, registry.url) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.destroy(); // the reader is gone before anything is written
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const cancel = loadScaledTimeout(120_000, () => child.kill('SIGKILL'));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  cancel();
  assert.equal(code, 2, stderr);
  assert.doesNotMatch(stderr, /EPIPE|Unhandled|at .*\.js:\d+/, stderr);
});
