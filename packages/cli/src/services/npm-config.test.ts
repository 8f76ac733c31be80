import { strict as assert } from 'node:assert';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  nerfDart,
  previousRegistry,
  readNpmrcValue,
  registryUrlFor,
  undoRegistry,
  useRegistry,
} from './npm-config.js';

function npmEnv(home: string, userconfig: string): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.toLowerCase().startsWith('npm_')) env[key] = value;
  }
  return { ...env, HOME: home, npm_config_userconfig: userconfig, npm_config_update_notifier: 'false' };
}

describe('npm config values', () => {
  test('readNpmrcValue reads the last assignment, ignoring comments and quotes', () => {
    const text =
      '# registry=http://comment.test/\nregistry = "http://a.test/"\n; x\nregistry=http://b.test/\n';
    assert.equal(readNpmrcValue(text, 'registry'), 'http://b.test/');
    assert.equal(readNpmrcValue('//h.test/:_authToken=abc\n', '//h.test/:_authToken'), 'abc');
    assert.equal(readNpmrcValue('email=x\n', 'registry'), null);
  });

  test('nerfDart and registryUrlFor', () => {
    assert.equal(nerfDart('http://127.0.0.1:4874/'), '//127.0.0.1:4874/');
    assert.equal(nerfDart('https://sr.example/npm'), '//sr.example/npm/');
    assert.equal(registryUrlFor('http://127.0.0.1:4874'), 'http://127.0.0.1:4874/');
  });
});

describe('use / undo with the real npm', () => {
  let tmp: string;
  let env: Record<string, string | undefined>;
  let userconfig: string;
  let project: string;
  let backupFile: string;
  const vetted = 'http://127.0.0.1:4874/';

  before(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'sr-use-'));
    userconfig = join(tmp, 'user-npmrc');
    project = join(tmp, 'project');
    backupFile = join(tmp, 'config', 'npm-config-backup.json');
    await mkdir(project);
    await writeFile(join(project, 'package.json'), '{"name":"p","version":"1.0.0"}\n');
    env = npmEnv(tmp, userconfig);
  });
  after(async () => rm(tmp, { recursive: true, force: true }));

  test('user scope: sets registry and token, undo restores the previous registry and drops the token', async () => {
    await writeFile(userconfig, 'registry=https://mirror.example/\ncolor=false\n');
    const used = await useRegistry({
      registry: vetted,
      token: 'srt_secret123456',
      location: 'user',
      cwd: project,
      env,
      backupFile,
    });
    assert.deepEqual(
      used.changes.map((c) => [c.key, c.previous]),
      [
        ['registry', 'https://mirror.example/'],
        ['//127.0.0.1:4874/:_authToken', null],
      ],
    );
    let text = await readFile(userconfig, 'utf8');
    assert.equal(readNpmrcValue(text, 'registry'), vetted);
    assert.equal(readNpmrcValue(text, '//127.0.0.1:4874/:_authToken'), 'srt_secret123456');
    assert.equal(await previousRegistry(backupFile), 'https://mirror.example/');

    // A second run keeps the value from before the first one.
    await useRegistry({
      registry: vetted,
      token: 'srt_secret123456',
      location: 'user',
      cwd: project,
      env,
      backupFile,
    });
    const undone = await undoRegistry({ location: 'user', cwd: project, env, backupFile });
    assert.equal(undone.restored.length, 2);
    text = await readFile(userconfig, 'utf8');
    assert.equal(readNpmrcValue(text, 'registry'), 'https://mirror.example/');
    assert.equal(readNpmrcValue(text, '//127.0.0.1:4874/:_authToken'), null);
    assert.equal(readNpmrcValue(text, 'color'), 'false');
    assert.equal(
      (await undoRegistry({ location: 'user', cwd: project, env, backupFile })).nothingToUndo,
      true,
    );
  });

  test('project scope writes the project .npmrc; undo deletes a key that was absent', async () => {
    await writeFile(userconfig, '');
    await useRegistry({ registry: vetted, location: 'project', cwd: project, env, backupFile });
    assert.equal(readNpmrcValue(await readFile(join(project, '.npmrc'), 'utf8'), 'registry'), vetted);
    assert.equal(readNpmrcValue(await readFile(userconfig, 'utf8'), 'registry'), null);
    await undoRegistry({ location: 'project', cwd: project, env, backupFile });
    const text = await readFile(join(project, '.npmrc'), 'utf8').catch(() => '');
    assert.equal(readNpmrcValue(text, 'registry'), null);
  });

  test('undo leaves a value the user changed afterwards', async () => {
    await writeFile(userconfig, '');
    await useRegistry({ registry: vetted, location: 'user', cwd: project, env, backupFile });
    await writeFile(userconfig, 'registry=https://other.example/\n');
    const undone = await undoRegistry({ location: 'user', cwd: project, env, backupFile });
    assert.equal(undone.restored.length, 0);
    assert.equal(undone.skipped[0]?.current, 'https://other.example/');
    assert.equal(readNpmrcValue(await readFile(userconfig, 'utf8'), 'registry'), 'https://other.example/');
  });
});
