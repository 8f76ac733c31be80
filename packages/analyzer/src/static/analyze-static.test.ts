import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { analyzeStatic } from './analyze-static.js';
import { minifiedBundle } from './test-support/bundle.js';
import { makeTarball } from './test-support/make-tarball.js';
import * as s from './test-support/scenarios.js';
import type { StaticReport } from './types.js';

async function analyze(sc: s.Scenario): Promise<StaticReport> {
  return analyzeStatic({
    name: sc.name,
    version: sc.version,
    tarball: await makeTarball(sc.files),
    packument: sc.packument,
    now: s.NOW,
  });
}

function strongReached(report: StaticReport) {
  return report.code.filter(
    (c) => c.strength === 'strong' && (c.reach.install || c.reach.import) && c.kind !== 'network',
  );
}

describe('analyzeStatic on benign look-alikes', () => {
  test('esbuild-like postinstall: script found, files followed, nothing suspicious', async () => {
    const r = await analyze(s.esbuildLike);
    assert.deepEqual(r.errors, []);
    assert.deepEqual(
      r.installScripts.map((i) => [i.event, i.isNew, i.files]),
      [['postinstall', false, ['install.js']]],
    );
    assert.deepEqual(r.reachable.install, ['install.js', 'lib/platform.js']);
    assert.deepEqual(r.reachable.import, ['lib/main.js']);
    assert.deepEqual(strongReached(r), []);
  });

  test('core-js-like node -e banner: inline code followed into postinstall.js', async () => {
    const r = await analyze(s.coreJsLike);
    assert.deepEqual(r.installScripts[0]?.files, ['postinstall.js']);
    assert.ok(r.reachable.install.includes('postinstall.js'));
    assert.deepEqual(strongReached(r), []);
  });

  test('binding.gyp without install script is an implicit node-gyp rebuild, not new', async () => {
    const r = await analyze(s.nativeAddon);
    assert.deepEqual(r.installScripts, [
      { event: 'install', command: 'node-gyp rebuild', implicit: true, isNew: false, files: ['binding.gyp'] },
    ]);
    const prebuild = await analyze(s.prebuildLike);
    assert.deepEqual(
      prebuild.installScripts.map((i) => i.implicit),
      [false],
    );
  });

  test('a registry copy naming the implicit node-gyp rebuild of a gypfile: false binding.gyp is not manifest confusion', async () => {
    const manifest = { name: 'gyp-optional', version: '1.3.0', main: 'index.js', gypfile: false };
    const files = {
      'package.json': JSON.stringify(manifest),
      'binding.gyp': "{ 'targets': [ { 'target_name': 'fast', 'sources': [ 'src/fast.c' ] } ] }\n",
      'index.js': 'module.exports = 1;\n',
    };
    const withRegistry = async (scripts: Record<string, string>) =>
      analyzeStatic({
        name: manifest.name,
        version: manifest.version,
        tarball: await makeTarball(files),
        packument: { name: manifest.name, versions: { [manifest.version]: { ...manifest, scripts } } },
        now: s.NOW,
      });
    assert.deepEqual((await withRegistry({ install: 'node-gyp rebuild' })).manifestDifferences, []);
    // Any other install script the tarball does not have is still a difference.
    assert.deepEqual(
      (await withRegistry({ install: 'node build.js' })).manifestDifferences?.map((d) => d.field),
      ['scripts'],
    );
  });

  test('husky-like prepare is reported but is not an install script', async () => {
    const r = await analyze(s.huskyLike);
    assert.equal(r.manifest.scripts.prepare, 'node bin.js install');
    assert.deepEqual(r.installScripts, []);
    assert.deepEqual(strongReached(r), []);
  });
});

describe('analyzeStatic on malicious shapes', () => {
  test('chalk-like: obfuscated browser hooks appended to the import entry', async () => {
    const r = await analyze(s.chalkLike);
    const reached = strongReached(r).map((c) => `${c.kind}:${c.pattern}`);
    for (const expected of [
      'obfuscation:_0x-identifiers',
      'obfuscation:code-after-long-whitespace',
      'browser-hook:fetch-override',
      'browser-hook:xhr-prototype-override',
      'browser-hook:ethereum-override',
    ]) {
      assert.ok(reached.includes(expected), expected);
    }
    assert.ok(r.code.every((c) => c.file !== 'source/index.js' || c.line === 34));
  });

  test('worm-like: new postinstall in a patch release reaching credentials, env dump and network', async () => {
    const r = await analyze(s.shaiHuludLike);
    assert.equal(r.metadata.releaseType, 'patch');
    assert.equal(r.installScripts[0]?.isNew, true);
    const install = r.code.filter((c) => c.reach.install).map((c) => c.pattern);
    assert.ok(install.includes('npmrc') && install.includes('network-module'));
    const npmrc = r.code.find((c) => c.pattern === 'npmrc');
    assert.equal(npmrc?.file, 'bundle.js');
    assert.equal(npmrc?.line, 2);
  });

  test('droppers and reverse shells in scripts and the shell files they run', async () => {
    const dropper = await analyze(s.dropper);
    assert.deepEqual(
      dropper.code.filter((c) => c.kind === 'shell-downloader').map((c) => [c.file, c.pattern]),
      [['package.json#scripts.preinstall', 'pipe-to-shell']],
    );
    const shell = await analyze(s.reverseShell);
    const hit = shell.code.find((c) => c.pattern === 'reverse-shell');
    assert.equal(hit?.file, 'scripts/setup.sh');
    assert.equal(hit?.line, 3);
    assert.equal(hit?.reach.install, true);
  });

  test('credential references in files nothing runs are not install-reachable', async () => {
    const r = await analyzeStatic({
      name: 'docs-like',
      version: '1.0.0',
      tarball: await makeTarball({
        'package.json': JSON.stringify({
          name: 'docs-like',
          version: '1.0.0',
          scripts: { postinstall: 'node install.js' },
        }),
        'install.js': "console.log('thanks');\n",
        'examples/deploy.js': "read(path.join(home, '.ssh', 'id_rsa'));\n",
      }),
      packument: {},
      now: s.NOW,
    });
    const ssh = r.code.find((c) => c.pattern === 'ssh-keys');
    assert.deepEqual(ssh?.reach, { install: false, import: false });
  });

  test('typosquat, release age, maintainer and publisher from the packument', async () => {
    const r = await analyze(s.typosquatted);
    assert.deepEqual(r.typosquat, { target: 'lodash', technique: 'edit-distance' });
    assert.equal(r.metadata.ageHours, 36);
  });
});

describe('analyzeStatic robustness and cost', () => {
  test('hostile tarballs and garbage never throw', async () => {
    const inputs: Uint8Array[] = [
      new Uint8Array(),
      randomBytes(10),
      randomBytes(5000),
      Buffer.from([0x1f, 0x8b, 8, 0, 0, 0]),
    ];
    inputs.push((await makeTarball({ 'package.json': '{}' }, { escape: true })).subarray(0, 40));
    for (const tarball of inputs) {
      const r = await analyzeStatic({ name: 'x', version: '1.0.0', tarball, packument: 'not a packument' });
      assert.ok(r.extraction.issues.length > 0);
      assert.deepEqual(r.errors, []);
    }
    // Wrong types from a careless caller become an analysis error, not an exception.
    const r = await analyzeStatic({
      name: 'x',
      version: '1.0.0',
      tarball: 'nope' as unknown as Uint8Array,
      packument: null,
    });
    assert.equal(r.errors.length, 1);
  });

  test('a package.json that is not JSON is reported in the manifest summary', async () => {
    const r = await analyzeStatic({
      name: 'x',
      version: '1.0.0',
      tarball: await makeTarball({ 'package.json': '{ nope' }),
      packument: {},
    });
    assert.match(r.manifest.error ?? '', /not valid JSON/);
  });

  test('the same input gives the same report', async () => {
    const tarball = await makeTarball(s.chalkLike.files);
    const input = {
      name: s.chalkLike.name,
      version: s.chalkLike.version,
      tarball,
      packument: s.chalkLike.packument,
      now: s.NOW,
    };
    assert.deepEqual(await analyzeStatic(input), await analyzeStatic(input));
  });

  test('a package with a ~3 MB minified bundle as entry', async (t) => {
    const tarball = await makeTarball({
      'package.json': JSON.stringify({
        name: 'bundle-like',
        version: '1.0.0',
        main: 'dist/index.min.js',
        scripts: { postinstall: 'node dist/index.min.js' },
      }),
      'dist/index.min.js': minifiedBundle(),
    });
    const started = performance.now();
    const r = await analyzeStatic({
      name: 'bundle-like',
      version: '1.0.0',
      tarball,
      packument: {},
      now: s.NOW,
    });
    const ms = performance.now() - started;
    t.diagnostic(
      `analyzeStatic with a 3.0 MB minified entry (${tarball.length} bytes gzipped): ${ms.toFixed(0)} ms`,
    );
    assert.deepEqual(
      r.code.filter((c) => c.kind === 'obfuscation'),
      [],
    );
  });
});
