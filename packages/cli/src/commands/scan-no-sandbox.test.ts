import { strict as assert } from 'node:assert';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  FakeRegistry,
  localModeEnv,
  newProjectDir,
  packFixture,
  writeProject,
} from '../test-support/fake-registry.js';
import { runCli } from '../test-support/run-cli.js';

// A machine that cannot run the sandbox (here: no bubblewrap, strace or iptables on PATH, as on a
// laptop without the Debian packages, or macOS) cannot vet anything in local mode. The scan says
// so in one line with the ways out, instead of holding every package "could not run".
describe('scan in local mode where the sandbox cannot run (built CLI)', () => {
  let work: string;
  let registry: FakeRegistry;
  let project: string;
  let env: Record<string, string>;

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'sr-cli-nosandbox-'));
    registry = new FakeRegistry();
    const pkg = packFixture({ name: 'nosandbox-dep', version: '1.0.0' });
    registry.add(pkg);
    await registry.start();
    project = newProjectDir(work, 'project');
    writeProject(project, { registry, direct: [pkg] });
    // An empty PATH directory: the sandbox's tools are not found (node is run by its path).
    env = { ...localModeEnv(work, registry.url), PATH: newProjectDir(work, 'empty-bin') };
  });
  after(async () => {
    await registry?.stop();
    await rm(work, { recursive: true, force: true });
  });

  test('exits 4 with one line naming what is missing and the ways out; nothing is held', async () => {
    const run = await runCli(['scan', project], { ...env, SR_SANDBOX: 'on' });
    assert.equal(run.code, 4, run.stderr);
    const lines = run.stderr.trim().split('\n');
    assert.equal(lines.length, 1, run.stderr);
    assert.match(lines[0]!, /sandbox cannot run on this machine \(missing: [^)]*bwrap/);
    assert.match(lines[0]!, /--server URL/);
    assert.match(lines[0]!, /SR_EXECUTOR=github/);
    assert.doesNotMatch(run.stdout, /review|held/i);

    const json = await runCli(['scan', project, '--json'], { ...env, SR_SANDBOX: 'on' });
    assert.equal(json.code, 4);
    const doc = JSON.parse(json.stdout) as { exitCode: number; error: { message: string } };
    assert.equal(doc.exitCode, 4);
    assert.match(doc.error.message, /sandbox cannot run/);
  });

  test('with the sandbox off (static analysis only, as asked), the scan runs', async () => {
    const off = await runCli(['scan', project], { ...env, SR_SANDBOX: 'off' });
    assert.equal(off.code, 0, off.stderr + off.stdout);
    assert.doesNotMatch(off.stderr, /sandbox cannot run/);
  });
});
