import { strict as assert } from 'node:assert';
import { describe, test } from 'node:test';
import type { BehaviourReport } from '@secure-registry/shared';
import { evaluateArtifact } from '../engine.js';
import type { Rule } from '../types.js';
import { homeWrite } from './home-write.js';
import { packageTampering } from './package-tampering.js';
import { projectDestruction } from './project-destruction.js';
import { projectWrite } from './project-write.js';
import { file, HOME, PKG_DIR, proc, PROJECT, report } from './test-support/behaviour-report.js';

type Entry = BehaviourReport['files'][number];
const layout = { home: HOME, projectDir: PROJECT, packageDir: PKG_DIR };
const at = (files: Entry[], more: Partial<BehaviourReport> = {}): BehaviourReport =>
  report({ layout, files, ...more });
const existing = (entry: Entry, bytes = 40, truncated = entry.op === 'write'): Entry => ({
  ...entry,
  existedBytes: bytes,
  ...(truncated ? { truncated: true } : {}),
});
const outside = (op: 'write' | 'delete', path: string): Entry => file(op, path, 'outside-package');

function severities(rule: Rule, behaviour: BehaviourReport): string[] {
  return evaluateArtifact({
    name: 'demo',
    version: '1.0.1',
    behaviour: [behaviour],
    rules: [rule],
  }).findings.map((f) => f.severity);
}

describe('footprint rules: writes outside the package', () => {
  test('project-destruction: deleting or rewriting existing project files; severity grows with what is touched', () => {
    const readme = existing(outside('write', `${PROJECT}/README.md`));
    const manifest = existing(outside('write', `${PROJECT}/package.json`));
    const source = existing(outside('delete', `${PROJECT}/src/main.ts`));
    assert.deepEqual(severities(projectDestruction, at([readme])), ['high']);
    assert.deepEqual(severities(projectDestruction, at([readme, manifest])), ['critical']);
    assert.deepEqual(severities(projectDestruction, at([source])), ['critical']);
    const appended = existing(outside('write', `${PROJECT}/src/main.ts`), 120, false);
    assert.deepEqual(severities(projectDestruction, at([appended])), ['high']);
    const [finding] = evaluateArtifact({
      name: 'demo',
      version: '1.0.1',
      behaviour: [at([readme, manifest, source])],
      rules: [projectDestruction],
    }).findings;
    assert.match(finding?.message ?? '', /deletes 1 existing file, overwrites 2 existing files/);
    assert.equal(finding?.evidence.length, 3);
  });

  test('project-destruction stays quiet on new files, node_modules, scratch files and the planted .env read', () => {
    const quiet = at([
      outside('write', `${PROJECT}/lefthook.yml`),
      { ...outside('delete', `${PROJECT}/x.tmp`), ownScratch: true },
      outside('write', `${PROJECT}/node_modules/.prisma/client/index.js`),
      existing(file('read', `${PROJECT}/.env`, 'credentials'), 80, false),
      file('write', `${PROJECT}/.git/hooks/pre-commit`, 'persistence'),
    ]);
    assert.deepEqual(severities(projectDestruction, quiet), []);
  });

  test('project-destruction: .git/config rewritten by git config core.hooksPath is low', () => {
    const config = existing(outside('write', `${PROJECT}/.git/config`));
    const hooksPath = at([config], {
      processes: [proc(['/usr/bin/git', 'config', 'core.hooksPath', '.husky/_'])],
    });
    assert.deepEqual(severities(projectDestruction, hooksPath), ['low']);
    assert.deepEqual(severities(projectDestruction, at([config])), ['high']);
  });

  test('project-write: copies of its own files are info, a few new files low, many high, a planted .npmrc high', () => {
    const worker = {
      ...outside('write', `${PROJECT}/public/mockServiceWorker.js`),
      copyOf: `${PKG_DIR}/lib/w.js`,
    };
    assert.deepEqual(severities(projectWrite, at([worker])), ['info']);
    assert.deepEqual(severities(projectWrite, at([outside('write', `${PROJECT}/lefthook.yml`)])), ['low']);
    const many = Array.from({ length: 12 }, (_, i) => outside('write', `${PROJECT}/src/gen-${i}.js`));
    assert.deepEqual(severities(projectWrite, at(many)), ['high']);
    assert.deepEqual(severities(projectWrite, at([file('write', `${PROJECT}/.npmrc`, 'credentials')])), [
      'high',
    ]);
    const hook = file('write', `${PROJECT}/.git/hooks/pre-commit`, 'persistence');
    assert.deepEqual(severities(projectWrite, at([hook])), []);
    const attempts = ['a', 'b', 'c'].map((n) => outside('delete', `${PROJECT}/${n}`));
    assert.deepEqual(severities(projectWrite, at(attempts)), ['high']);
  });

  test('home-write: caches are quiet, new tool configs low, execution configs and user files high, destruction critical', () => {
    const caches = at([
      outside('write', `${HOME}/.cache/puppeteer/chrome/x`),
      outside('write', `${HOME}/.npm/_cacache/index-v5/a`),
      outside('write', `${HOME}/.node-gyp/24.0.0/include/node/node.h`),
    ]);
    assert.deepEqual(severities(homeWrite, caches), []);
    assert.deepEqual(
      severities(homeWrite, at([outside('write', `${HOME}/.config/nextjs-nodejs/config.json`)])),
      ['low'],
    );
    assert.deepEqual(severities(homeWrite, at([outside('write', `${HOME}/.gitconfig`)])), ['high']);
    assert.deepEqual(severities(homeWrite, at([outside('write', `${HOME}/.vscode/extensions/x/ext.js`)])), [
      'high',
    ]);
    assert.deepEqual(severities(homeWrite, at([existing(outside('write', `${HOME}/.vimrc`))])), ['critical']);
    assert.deepEqual(severities(homeWrite, at([existing(outside('write', `${HOME}/.config/foo/x.json`))])), [
      'high',
    ]);
    const two = [
      existing(outside('write', `${HOME}/.vimrc`)),
      existing(outside('write', `${HOME}/.tmux.conf`)),
    ];
    assert.deepEqual(severities(homeWrite, at(two)), ['critical']);
    assert.deepEqual(severities(homeWrite, at([existing(outside('delete', `${HOME}/.vimrc`))])), [
      'critical',
    ]);
    assert.deepEqual(severities(homeWrite, at([file('write', `${HOME}/.npmrc`, 'credentials')])), [
      'critical',
    ]);
    assert.deepEqual(severities(homeWrite, at([outside('write', `${HOME}/Desktop/README-NOW.txt`)])), [
      'high',
    ]);
    assert.deepEqual(severities(homeWrite, at([existing(outside('delete', `${HOME}/Documents/cv.pdf`))])), [
      'critical',
    ]);
    // A shell rc file is persistence-write's; a report without a layout judges nothing.
    assert.deepEqual(severities(homeWrite, at([file('write', `${HOME}/.bashrc`, 'persistence')])), []);
    assert.deepEqual(severities(homeWrite, report({ files: [outside('write', `${HOME}/.gitconfig`)] })), []);
  });

  test('package-tampering: several packages rewritten are critical; node_modules/.bin is judged, .prisma is not', () => {
    const pkgs = ['a', 'b', 'c'].map((n) =>
      file('write', `${PROJECT}/node_modules/${n}/index.js`, 'other-package'),
    );
    assert.deepEqual(severities(packageTampering, at(pkgs.slice(0, 1))), ['high']);
    assert.deepEqual(severities(packageTampering, at(pkgs)), ['critical']);
    assert.deepEqual(
      severities(packageTampering, at([outside('write', `${PROJECT}/node_modules/.bin/tsc`)])),
      ['high'],
    );
    assert.deepEqual(
      severities(packageTampering, at([outside('write', `${PROJECT}/node_modules/.prisma/client/index.js`)])),
      [],
    );
  });
});
