/**
 * Issue 13 item 15: `login` checks the token against the server before storing it, and `scan --json`
 * prints a document with the error when the scan cannot run (the built CLI against a real server).
 */
import { strict as assert } from 'node:assert';
import { readdir, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runCli, startReviewServer } from './test-support/review-server.js';
import type { ReviewServer } from './test-support/review-server.js';

interface ErrorReport {
  exitCode: number;
  error: { kind: string; code?: string; message: string };
}

describe('login checks the token; scan --json reports errors as a document', () => {
  let world: ReviewServer;
  let env: Record<string, string>;
  before(async () => {
    world = await startReviewServer();
    // No server in the environment: login decides where scans go.
    const { SECURE_REGISTRY_SERVER: _server, ...rest } = world.env(undefined);
    env = rest;
  });
  after(async () => world?.dispose());

  const configFiles = async (): Promise<string[]> => readdir(env.SECURE_REGISTRY_CONFIG_DIR!).catch(() => []);

  test('a refused token exits 3 with a message and stores nothing', async () => {
    const refused = await runCli(
      ['login', '--server', world.server.url, '--token', 'srt_refused_token_1'],
      env,
    );
    assert.equal(refused.code, 3, refused.stderr);
    assert.match(refused.stderr, /refused the token/);
    assert.doesNotMatch(refused.stderr + refused.stdout, /srt_refused_token_1/);
    assert.deepEqual(await configFiles(), [], 'nothing stored');
    const none = await runCli(['login', '--server', world.server.url], env);
    assert.equal(none.code, 3, none.stderr);
    assert.deepEqual(await configFiles(), []);
  });

  test('an accepted token is stored: scans then go to that server; logout returns to local mode', async () => {
    const login = await runCli(['login', '--server', world.server.url, '--token', world.tokens.ci], env);
    assert.equal(login.code, 0, login.stderr);
    assert.match(login.stdout, /logged in to .* with a token/);
    assert.doesNotMatch(login.stdout, new RegExp(world.tokens.ci));
    const dir = join(world.home, 'hosted');
    await mkdir(dir, { recursive: true });
    const lock = { name: 'p', version: '1.0.0', lockfileVersion: 3, requires: true, packages: { '': {} } };
    await writeFile(join(dir, 'package-lock.json'), JSON.stringify(lock));
    const scan = await runCli(['scan', dir], env);
    assert.equal(scan.code, 0, scan.stderr);
    assert.ok(scan.stdout.includes(`→ ${world.server.url}`), scan.stdout);
    assert.equal((await runCli(['logout'], env)).code, 0);
  });

  test('scan --json prints one document with the error and the exit code when the scan fails', async () => {
    const missing = join(world.home, 'no-lockfile-here');
    await mkdir(missing, { recursive: true });
    const usage = await runCli(['scan', missing, '--json'], env);
    assert.equal(usage.code, 3, usage.stderr);
    const report = JSON.parse(usage.stdout) as ErrorReport;
    assert.equal(report.exitCode, 3);
    assert.equal(report.error.kind, 'usage');
    assert.equal(report.error.code, 'ERR_SR_NO_LOCKFILE');
    assert.match(report.error.message, /no package-lock\.json/);
    assert.match(usage.stderr, /^error: /m, 'the error is on stderr too');

    const dir = join(world.home, 'server-gone');
    await mkdir(dir, { recursive: true });
    const lock = { name: 'p', version: '1.0.0', lockfileVersion: 3, requires: true, packages: { '': {} } };
    await writeFile(join(dir, 'package-lock.json'), JSON.stringify(lock));
    const down = await runCli(['scan', dir, '--json'], {
      ...env,
      SECURE_REGISTRY_SERVER: 'http://127.0.0.1:9',
      SECURE_REGISTRY_TOKEN: world.tokens.ci,
    });
    assert.equal(down.code, 4, down.stderr);
    const failed = JSON.parse(down.stdout) as ErrorReport;
    assert.equal(failed.exitCode, 4);
    assert.equal(failed.error.kind, 'infrastructure');
    assert.match(failed.error.message, /cannot reach the server at http:\/\/127\.0\.0\.1:9/);
    assert.doesNotMatch(down.stdout + down.stderr, new RegExp(world.tokens.ci));
  });
});
