import { strict as assert } from 'node:assert';
import { mkdtemp, rm } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { describeResult, makeCliHome, runCli } from './support/cli.js';
import { startFixtureRegistry } from './support/fixture-registry.js';
import type { FixtureRegistry } from './support/fixture-registry.js';
import { makeProject } from './support/project.js';
import { startServerProcess } from './support/server-process.js';

// The plain view explains itself: a line per finished package with the analysis steps it went
// through, and at the end which steps ran, on what (sandbox or not, which executor).
describe('secure-registry scan: analysis steps in the plain view (built CLI, real server)', () => {
  let registry: FixtureRegistry;
  let tmp: string;
  before(async () => {
    registry = await startFixtureRegistry();
    tmp = await mkdtemp(path.join(os.tmpdir(), 'sr-e2e-phases-'));
  });
  after(async () => {
    await registry.close();
    await rm(tmp, { recursive: true, force: true });
  });

  test('a hosted server without the sandbox: each package line has its steps, the end says the sandbox did not run', async () => {
    const server = await startServerProcess({
      SR_AUTH: 'none',
      SR_DATA_DIR: path.join(tmp, 'server'),
      SR_UPSTREAM_REGISTRY: registry.url,
      SR_SANDBOX: 'off',
    });
    try {
      const dir = path.join(tmp, 'hosted');
      await makeProject(dir, { 'fixture-banner': '1.0.0', 'fixture-strpad': '1.1.0' }, registry.url);
      const home = await makeCliHome(tmp);
      const env = { SECURE_REGISTRY_SERVER: server.url };
      const result = await runCli(['scan', dir], { home, env });
      assert.equal(result.code, 0, describeResult(result));
      const out = result.stdout;
      assert.match(
        out,
        /^APPROVED fixture-strpad@1\.1\.0 \(fetch \d+\.\ds, static \d+\.\ds, import skipped\)$/m,
        out,
      );
      assert.match(
        out,
        /^APPROVED fixture-banner@1\.0\.0 \(fetch \d+\.\ds, static \d+\.\ds, install skipped, import skipped\)$/m,
        out,
      );
      assert.match(out, /^analysis in this scan:$/m);
      assert.match(out, /^ {2}fetch +2 runs, /m);
      assert.match(out, /^ {2}static +2 runs, /m);
      assert.match(
        out,
        /^ {2}install +1 not run \(the sandbox is off on this server \(SR_SANDBOX=off\)\)$/m,
        out,
      );
      assert.match(out, /^ {2}import +2 not run \(the sandbox is off/m, out);
      assert.match(out, /^ {2}sandbox: no package code ran \(\d+ phases? not run\)$/m, out);
      assert.ok(out.indexOf('analysis in this scan:') < out.indexOf('exit code 0'), out);

      // Again: every verdict is known, nothing is analysed, and the view says so.
      const again = await runCli(['scan', dir], { home, env });
      assert.equal(again.code, 0, describeResult(again));
      assert.match(again.stdout, /analysis: none ran in this scan \(every verdict was already known/);

      // --quiet keeps the statement of what ran, not the per-package lines.
      const other = path.join(tmp, 'quiet');
      await makeProject(other, { 'fixture-colors': '^2.0.0' }, registry.url);
      const quiet = await runCli(['scan', other, '--quiet'], { home, env });
      assert.equal(quiet.code, 0, describeResult(quiet));
      assert.doesNotMatch(quiet.stdout, /^APPROVED/m);
      assert.match(quiet.stdout, /^ {2}static +\d+ runs?, /m, quiet.stdout);
    } finally {
      server.child.kill('SIGTERM');
      await server.exited;
    }
  });

  test('with the sandbox: the install phase ran in it, on the local executor', async () => {
    const dir = path.join(tmp, 'sandbox');
    await makeProject(dir, { 'fixture-banner': '1.0.0' }, registry.url);
    const home = await makeCliHome(tmp);
    const result = await runCli(['scan', dir, '--upstream', registry.url], {
      home,
      sandbox: true,
      timeoutMs: 300_000,
    });
    assert.equal(result.code, 0, describeResult(result));
    const out = result.stdout;
    assert.match(
      out,
      /^APPROVED fixture-banner@1\.0\.0 \(fetch [\d.ms ]+, static [\d.ms ]+, .*install [\d.ms ]+.*\)$/m,
      out,
    );
    assert.match(out, /^ {2}install +1 run in the sandbox \(local executor\), /m, out);
    assert.match(out, /^ {2}import +1 run in the sandbox \(local executor\)/m, out);
    assert.match(out, /^ {2}sandbox: package code ran in the sandbox \(local executor\)$/m, out);
  });
});
