import { after, before, describe, test } from 'node:test';
import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  dropperFixtures,
  FakeRegistry,
  localModeEnv,
  newProjectDir,
  writeProject,
} from './test-support/fake-registry.js';
import type { BuiltPackage } from './test-support/fake-registry.js';
import { runCli } from './test-support/run-cli.js';

// The built CLI as a subprocess, in local mode (the real server started in-process by the CLI)
// against a fake upstream registry on 127.0.0.1.

let work: string;
let registry: FakeRegistry;
let env: Record<string, string>;
let benign: BuiltPackage;
let dropper: BuiltPackage;
let parent: BuiltPackage;

const newDir = (name: string): string => newProjectDir(work, name);

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'sr-cli-e2e-'));
  registry = new FakeRegistry();
  ({ benign, dropper, parent } = dropperFixtures('zq'));
  for (const pkg of [benign, dropper, parent]) registry.add(pkg);
  await registry.start();
  env = localModeEnv(work, registry.url);
});
after(async () => {
  await registry.stop();
  rmSync(work, { recursive: true, force: true });
});

describe('secure-registry scan (built CLI, local mode)', () => {
  test('exit 0 when every package is approved; --json is one document', async () => {
    const dir = newDir('ok');
    writeProject(dir, { registry, direct: [benign] });
    const run = await runCli(['scan', dir, '--json'], env);
    assert.equal(run.code, 0, run.stderr);
    const report = JSON.parse(run.stdout);
    assert.equal(report.schemaVersion, 1);
    assert.equal(report.exitCode, 0);
    assert.deepEqual(report.counts.approved, 1);
    assert.deepEqual(
      report.packages.map((p: { name: string; verdict: string; integrity: string }) => [
        p.name,
        p.verdict,
        p.integrity,
      ]),
      [['zq-benign', 'approved', benign.integrity]],
    );
  });

  test('exit 1 for a rejected package and its blocked dependent; plain output explains both', async () => {
    const dir = newDir('rejected');
    writeProject(dir, { registry, direct: [parent, benign], transitive: [dropper] });
    const json = await runCli(['scan', dir, '--json'], env);
    assert.equal(json.code, 1, json.stderr);
    const report = JSON.parse(json.stdout);
    const [first, second] = report.packages;
    assert.equal(first.name, 'zq-dropper');
    assert.equal(first.verdict, 'rejected');
    assert.ok(
      first.findings.some(
        (f: { rule: string; severity: string }) => f.rule === 'shell-downloader' && f.severity === 'critical',
      ),
    );
    assert.equal(second.name, 'zq-parent');
    assert.equal(second.verdict, 'blocked');
    assert.deepEqual(second.blockedBy.path, ['zq-parent@2.0.0', 'zq-dropper@1.0.0']);

    const plain = await runCli(['scan', dir], { ...env, CI: 'true' });
    assert.equal(plain.code, 1, plain.stderr);
    assert.match(plain.stdout, /rejected +zq-dropper@1\.0\.0 +install script runs a shell dropper/);
    assert.match(plain.stdout, /blocked +zq-parent@2\.0\.0 +depends on rejected zq-dropper@1\.0\.0/);
    assert.ok(plain.stdout.indexOf('zq-dropper@1.0.0  ') < plain.stdout.indexOf('zq-parent@2.0.0  '));

    const sarif = await runCli(['scan', dir, '--sarif'], env);
    assert.equal(sarif.code, 1);
    const log = JSON.parse(sarif.stdout);
    assert.equal(log.version, '2.1.0');
    const result = log.runs[0].results.find((r: { ruleId: string }) => r.ruleId === 'shell-downloader');
    assert.equal(result.level, 'error');
    assert.equal(result.locations[0].logicalLocations[0].name, 'zq-dropper@1.0.0');
  });

  test('exit 2 for a git dependency (not vettable) unless --fail-on rejected', async () => {
    const dir = newDir('git');
    writeProject(dir, {
      registry,
      direct: [benign],
      extra: {
        'node_modules/zq-git': {
          version: '1.0.0',
          resolved: 'git+ssh://git@example.invalid/zq/git.git#0123456789abcdef0123456789abcdef01234567',
        },
      },
    });
    const strict = await runCli(['scan', dir, '--json'], env);
    assert.equal(strict.code, 2, strict.stderr);
    const git = JSON.parse(strict.stdout).packages[0];
    assert.deepEqual([git.name, git.source, git.verdict], ['zq-git', 'git', 'unvettable']);
    assert.match(git.reason, /git/);
    const lenient = await runCli(['scan', dir, '--json', '--fail-on', 'rejected'], env);
    assert.equal(lenient.code, 0, lenient.stderr);
  });

  test('exit 3 for usage and input errors, with a clear message and no stack trace', async () => {
    const empty = newDir('empty');
    const none = await runCli(['scan', empty], env);
    assert.equal(none.code, 3);
    assert.match(
      none.stderr,
      /no package-lock\.json, npm-shrinkwrap\.json, pnpm-lock\.yaml or yarn\.lock in /,
    );
    assert.match(none.stderr, /npm install --package-lock-only/);

    const broken = newDir('broken');
    writeFileSync(join(broken, 'package-lock.json'), '{"lockfileVersion": 3, "packages": {"": {');
    const bad = await runCli(['scan', broken], env);
    assert.equal(bad.code, 3);
    assert.match(bad.stderr, /not valid JSON/);
    assert.doesNotMatch(bad.stderr, /\n\s+at /);

    const flag = await runCli(['scan', empty, '--fail-on', 'sometimes'], env);
    assert.equal(flag.code, 3);
    assert.match(flag.stderr, /Allowed choices are rejected, review, unvettable, none/);
    assert.equal((await runCli(['frobnicate'], env)).code, 3);
  });

  test('exit 4 when the configured server is unreachable; the token never appears', async () => {
    const dir = newDir('offline');
    writeProject(dir, { registry, direct: [benign] });
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const run = await runCli(['scan', dir, '--json'], {
      ...env,
      SECURE_REGISTRY_SERVER: `http://127.0.0.1:${port}`,
      SECURE_REGISTRY_TOKEN: 'srt_do_not_print_me',
    });
    assert.equal(run.code, 4);
    // --json: one document with the error (issue 13 item 15), the message on stderr too.
    const report = JSON.parse(run.stdout) as { exitCode: number; error: { kind: string; message: string } };
    assert.equal(report.exitCode, 4);
    assert.equal(report.error.kind, 'infrastructure');
    assert.match(run.stderr, new RegExp(`cannot reach the server at http://127\\.0\\.0\\.1:${port}`));
    assert.doesNotMatch(run.stderr + run.stdout, /srt_do_not_print_me/);
  });

  test('--version and --help', async () => {
    const version = await runCli(['--version'], env);
    assert.equal(version.code, 0);
    assert.match(version.stdout, /^\d+\.\d+\.\d+/);
    const help = await runCli(['--help'], env);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /scan \[options\] \[dir\]/);
    assert.match(help.stdout, /Exit codes:/);
  });
});
