import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { BLOCK_BEGIN, BLOCK_END, installHook, uninstallHook, withBlock, withoutBlock } from './git-hook.js';

const gitEnv = {
  ...process.env,
  GIT_AUTHOR_NAME: 't',
  GIT_AUTHOR_EMAIL: 't@example.test',
  GIT_COMMITTER_NAME: 't',
  GIT_COMMITTER_EMAIL: 't@example.test',
};

function git(cwd: string, args: string[], env: NodeJS.ProcessEnv = {}) {
  const result = spawnSync('git', args, { cwd, env: { ...gitEnv, ...env }, encoding: 'utf8' });
  return { code: result.status, out: `${result.stdout}${result.stderr}` };
}

// A stand-in for the CLI: records what `scan` was asked to read, exits with $FAKE_SCAN_EXIT.
const FAKE_CLI = `import { appendFileSync, existsSync, readFileSync, readdirSync } from 'node:fs';
const [command, dir] = process.argv.slice(2);
const npm = existsSync(dir + '/package-lock.json');
const marker = npm ? JSON.parse(readFileSync(dir + '/package-lock.json', 'utf8')).marker : readdirSync(dir).sort().join(',');
appendFileSync(process.env.FAKE_SCAN_LOG, JSON.stringify({ command, marker }) + '\\n');
process.exit(Number(process.env.FAKE_SCAN_EXIT ?? 0));
`;

describe('pre-commit hook block (pure)', () => {
  test('added to an existing hook, replaced in place, removed leaving the rest', () => {
    const block = `${BLOCK_BEGIN}\necho scan\n${BLOCK_END}\n`;
    const original = '#!/bin/sh\nnpx lint-staged\n';
    const added = withBlock(original, block);
    assert.ok(added.startsWith(original));
    assert.ok(added.includes('echo scan'));
    const replaced = withBlock(added, block.replace('echo scan', 'echo scan2'));
    assert.equal(replaced.split(BLOCK_BEGIN).length, 2);
    assert.ok(replaced.includes('echo scan2') && !replaced.includes('echo scan\n'));
    const removed = withoutBlock(replaced);
    assert.deepEqual(removed, { text: original, removed: true, empty: false });
    assert.equal(withoutBlock(withBlock(null, block)).empty, true);
    assert.equal(withoutBlock(original).removed, false);
  });
});

describe('pre-commit hook in real repositories', () => {
  let tmp: string;
  let script: string;
  let log: string;
  const command = () => ({ node: process.execPath, script });

  before(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'sr-hook-'));
    script = join(tmp, 'fake-cli.mjs');
    log = join(tmp, 'scan.log');
    await writeFile(script, FAKE_CLI);
  });
  after(async () => rm(tmp, { recursive: true, force: true }));

  async function repo(name: string): Promise<string> {
    const dir = join(tmp, name);
    await mkdir(dir, { recursive: true });
    assert.equal(git(dir, ['init', '-q']).code, 0);
    await writeFile(join(dir, 'README'), 'x\n');
    git(dir, ['add', 'README']);
    git(dir, ['commit', '-q', '-m', 'init']);
    return dir;
  }

  async function scans(): Promise<{ command: string; marker: string }[]> {
    const text = await readFile(log, 'utf8').catch(() => '');
    await rm(log, { force: true });
    return text
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as { command: string; marker: string });
  }

  test('plain git: scans the staged lockfile only when one is staged; a failing scan stops the commit', async () => {
    const dir = await repo('plain');
    const result = await installHook({ cwd: dir, env: process.env, command: command() });
    assert.equal(result.kind, 'git');
    assert.equal(result.action, 'created');
    assert.equal(result.file, join(dir, '.git', 'hooks', 'pre-commit'));
    assert.ok(((await stat(result.file)).mode & 0o111) !== 0, 'hook is executable');
    const env = { FAKE_SCAN_LOG: log, FAKE_SCAN_EXIT: '0' };

    await writeFile(join(dir, 'other.txt'), 'y\n');
    git(dir, ['add', 'other.txt']);
    assert.equal(git(dir, ['commit', '-q', '-m', 'no lockfile'], env).code, 0);
    assert.deepEqual(await scans(), []);

    await mkdir(join(dir, 'app'));
    await writeFile(join(dir, 'app', 'package-lock.json'), '{"marker":"staged"}\n');
    git(dir, ['add', 'app/package-lock.json']);
    // The working tree differs from the index: the staged version is what gets scanned.
    await writeFile(join(dir, 'app', 'package-lock.json'), '{"marker":"working-tree"}\n');
    const blocked = git(dir, ['commit', '-q', '-m', 'lock'], { ...env, FAKE_SCAN_EXIT: '1' });
    assert.equal(blocked.code, 1, blocked.out);
    assert.match(blocked.out, /commit stopped \(scan exit 1\)/);
    assert.deepEqual(await scans(), [{ command: 'scan', marker: 'staged' }]);
    assert.equal(git(dir, ['rev-list', '--count', 'HEAD']).out.trim(), '2');

    const passed = git(dir, ['commit', '-q', '-m', 'lock'], env);
    assert.equal(passed.code, 0, passed.out);
    assert.deepEqual(await scans(), [{ command: 'scan', marker: 'staged' }]);

    const removed = await uninstallHook({ cwd: dir, env: process.env });
    assert.deepEqual([removed.removed, removed.deleted], [true, true]);
  });

  test('a staged pnpm-lock.yaml or yarn.lock is scanned too, with its package.json', async () => {
    const dir = await repo('pnpm-yarn');
    await installHook({ cwd: dir, env: process.env, command: command() });
    const env = { FAKE_SCAN_LOG: log, FAKE_SCAN_EXIT: '0' };
    await mkdir(join(dir, 'web'));
    await writeFile(join(dir, 'web', 'package.json'), '{}\n');
    await writeFile(join(dir, 'web', 'pnpm-lock.yaml'), "lockfileVersion: '9.0'\n");
    await writeFile(join(dir, 'yarn.lock'), '# yarn lockfile v1\n');
    git(dir, ['add', 'web', 'yarn.lock']);
    const result = git(dir, ['commit', '-q', '-m', 'locks'], env);
    assert.equal(result.code, 0, result.out);
    assert.deepEqual(
      (await scans()).sort((a, b) => a.marker.localeCompare(b.marker)),
      [
        { command: 'scan', marker: 'package.json,pnpm-lock.yaml' },
        // The root's temporary copy also holds the web/ directory made for the other lockfile.
        { command: 'scan', marker: 'web,yarn.lock' },
      ],
    );
  });

  test('husky 9 (core.hooksPath .husky/_): the block goes into .husky/pre-commit after the existing command', async () => {
    const dir = await repo('husky');
    await mkdir(join(dir, '.husky', '_'), { recursive: true });
    // What husky 9 generates: .husky/_/pre-commit sources .husky/_/h, which runs .husky/pre-commit.
    await writeFile(
      join(dir, '.husky', '_', 'h'),
      '#!/usr/bin/env sh\nn=$(basename "$0")\ns=$(dirname "$(dirname "$0")")/$n\n[ ! -f "$s" ] && exit 0\nsh -e "$s" "$@"\nc=$?\n[ $c != 0 ] && echo "husky - $n script failed (code $c)"\nexit $c\n',
    );
    await writeFile(join(dir, '.husky', '_', 'pre-commit'), '#!/usr/bin/env sh\n. "$(dirname "$0")/h"\n');
    await chmod(join(dir, '.husky', '_', 'pre-commit'), 0o755);
    await writeFile(join(dir, '.husky', 'pre-commit'), 'echo lint-staged-ran >> "$FAKE_SCAN_LOG.lint"\n');
    git(dir, ['config', 'core.hooksPath', '.husky/_']);

    const result = await installHook({ cwd: dir, env: process.env, command: command() });
    assert.equal(result.kind, 'husky');
    assert.equal(result.action, 'added');
    assert.equal(result.file, join(dir, '.husky', 'pre-commit'));
    assert.equal((await installHook({ cwd: dir, env: process.env, command: command() })).action, 'updated');

    await writeFile(join(dir, 'package-lock.json'), '{"marker":"root"}\n');
    git(dir, ['add', 'package-lock.json']);
    const blocked = git(dir, ['commit', '-q', '-m', 'lock'], { FAKE_SCAN_LOG: log, FAKE_SCAN_EXIT: '2' });
    assert.notEqual(blocked.code, 0, blocked.out);
    assert.deepEqual(await scans(), [{ command: 'scan', marker: 'root' }]);
    assert.match(await readFile(`${log}.lint`, 'utf8'), /lint-staged-ran/);

    await uninstallHook({ cwd: dir, env: process.env });
    assert.equal(
      await readFile(join(dir, '.husky', 'pre-commit'), 'utf8'),
      'echo lint-staged-ran >> "$FAKE_SCAN_LOG.lint"\n',
    );
    assert.equal(
      git(dir, ['commit', '-q', '-m', 'lock'], { FAKE_SCAN_LOG: log, FAKE_SCAN_EXIT: '2' }).code,
      0,
    );
    assert.deepEqual(await scans(), []);
  });

  test('a lefthook-generated hook keeps its content and gains the block', async () => {
    const dir = await repo('lefthook');
    const file = join(dir, '.git', 'hooks', 'pre-commit');
    const lefthook =
      '#!/bin/sh\n\nif [ "$LEFTHOOK" = "0" ]; then\n  exit 0\nfi\n\ncall_lefthook()\n{\n  true\n}\n\ncall_lefthook run "pre-commit" "$@"\n';
    await writeFile(file, lefthook);
    await chmod(file, 0o755);
    const result = await installHook({ cwd: dir, env: process.env, command: command() });
    assert.equal(result.kind, 'lefthook');
    assert.ok((await readFile(file, 'utf8')).startsWith(lefthook));
    const removed = await uninstallHook({ cwd: dir, env: process.env });
    assert.deepEqual([removed.removed, removed.deleted], [true, false]);
    assert.equal(await readFile(file, 'utf8'), lefthook);
  });

  test('outside a git repository: a clear error', async () => {
    const dir = join(tmp, 'not-a-repo');
    await mkdir(dir);
    await assert.rejects(
      installHook({ cwd: dir, env: { ...process.env, GIT_CEILING_DIRECTORIES: tmp }, command: command() }),
      {
        code: 'ERR_SR_NOT_A_GIT_REPO',
      },
    );
  });
});
