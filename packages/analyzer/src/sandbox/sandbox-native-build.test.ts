import { strict as assert } from 'node:assert';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import type { TraceEvent } from '@secure-registry/shared';
import { isKnownNoise, pathPattern } from '../trace/noise.js';
import { gypNotReached, headerVersion } from './native-build.js';
import { BENIGN, describeRun, MALICIOUS, ofKind, runFixture, token } from './test-support/fixtures.js';

// npm's implicit `node-gyp rebuild` (binding.gyp, no install/preinstall script) runs in the install
// phase with npm's node-gyp, node-gyp's header cache filled from the sandbox's Node, and no internet.
const build = { timeoutMs: 180_000, graceMs: 500 };
const ranGyp = (events: TraceEvent[]): boolean =>
  events.some((e) => e.kind === 'process' && e.argv.some((a) => a.endsWith('/gyp_main.py')));

describe('sandbox: implicit node-gyp builds', { concurrency: 2 }, () => {
  test("a <!(...) command expansion in binding.gyp runs: its POST carries the run's honeytokens", async () => {
    const run = await runFixture(join(MALICIOUS, 'gyp-expansion-thief'), 'install', build);
    assert.equal(run.status, 'completed', describeRun(run));
    assert.ok(
      ofKind(run, 'process').some((e) => e.argv.join(' ') === 'node tools/detect-flags.js'),
      describeRun(run),
    );
    const post = ofKind(run, 'http').find((e) => e.host === 'telemetry.gyp-metrics.example');
    assert.ok(post?.body.includes(token(run, 'env:NPM_TOKEN')), describeRun(run));
    // The build carried on with the printed flag and linked the addon.
    assert.equal(run.exitCode, 0, describeRun(run));
  });

  test('a gyp action runs at make time and drops files outside the package', async () => {
    const run = await runFixture(join(MALICIOUS, 'gyp-action-dropper'), 'install', build);
    assert.equal(run.status, 'completed', describeRun(run));
    const writes = ofKind(run, 'file')
      .filter((e) => e.op === 'create' || e.op === 'write')
      .map((e) => e.path);
    assert.ok(writes.includes(`${run.home}/.local/bin/gyp-update`), describeRun(run));
    assert.ok(writes.includes(`${run.home}/.bashrc`), describeRun(run));
  });

  test('a node-addon-api style addon builds offline, its <!@(node -p ...) expansion resolving a dependency', async () => {
    const run = await runFixture(join(BENIGN, 'gyp-addon'), 'install', {
      ...build,
      dependencies: [{ name: 'fixture-addon-api', dir: join(BENIGN, 'gyp-addon-api') }],
    });
    assert.equal(run.status, 'completed', describeRun(run));
    assert.equal(run.exitCode, 0, describeRun(run));
    const created = ofKind(run, 'file').filter((e) => e.op === 'create' || e.op === 'write');
    assert.ok(
      created.some((e) => e.path === `${run.packageDir}/build/Release/checksum.node`),
      describeRun(run),
    );
    assert.deepEqual(ofKind(run, 'http'), []);
    assert.deepEqual(ofKind(run, 'dns'), [], 'no header download: the cache was used');
  });

  test('"gypfile": false is built anyway (as npm ci does); a build that fails to compile is a completed run', async () => {
    const [optional, broken] = await Promise.all([
      runFixture(join(BENIGN, 'gyp-optional'), 'install', build),
      runFixture(join(BENIGN, 'gyp-broken'), 'install', build),
    ]);
    assert.equal(optional.status, 'completed', describeRun(optional));
    assert.equal(optional.exitCode, 0, describeRun(optional));
    assert.equal(broken.status, 'completed', describeRun(broken));
    assert.notEqual(broken.exitCode, 0);
    assert.ok(ranGyp(broken.events), 'gyp ran before the compiler failed');
  });
});

describe('native build support (pure)', () => {
  const proc = (argv: string[]): TraceEvent =>
    ({ kind: 'process', argv, path: argv[0], pid: 2, ppid: 1, ts: 0, seq: 0 }) as unknown as TraceEvent;
  const nodeGyp = proc([
    'node',
    '/usr/local/lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js',
    'rebuild',
  ]);
  const gyp = proc([
    '/usr/bin/python3',
    '/usr/local/lib/node_modules/npm/node_modules/node-gyp/gyp/gyp_main.py',
  ]);

  test('a failed node-gyp run that never started gyp is the sandbox failing, not the package', () => {
    assert.match(gypNotReached([nodeGyp], 1) ?? '', /gyp never started/);
    assert.equal(gypNotReached([nodeGyp, gyp], 1), undefined, 'gyp ran: the failure is the package');
    assert.equal(gypNotReached([nodeGyp], 0), undefined);
    assert.equal(gypNotReached([proc(['sh', '-c', 'exit 1'])], 1), undefined, 'no node-gyp');
  });

  test('the header version comes from node_version.h', () => {
    const h = '#define NODE_MAJOR_VERSION 24\n#define NODE_MINOR_VERSION 21\n#define NODE_PATCH_VERSION 0\n';
    assert.equal(headerVersion(h), '24.21.0');
    assert.equal(headerVersion('#define NODE_MAJOR_VERSION 24\n'), undefined);
  });

  test("Python's bytecode cache attempts in npm's gyp are noise; the same write by anything else is not", () => {
    const ctx = {
      home: '/home/maria',
      projectDir: '/home/maria/p',
      packageDir: '/home/maria/p/node_modules/x',
    };
    const pyc = pathPattern(
      '/usr/local/lib/node_modules/npm/node_modules/node-gyp/gyp/pylib/gyp/__pycache__/common.cpython-311.pyc',
      ctx,
    );
    assert.equal(isKnownNoise('python3', pyc, 'write'), true);
    assert.equal(isKnownNoise('node tools/x.js', pyc, 'write'), false);
    const lib = pathPattern('/usr/local/lib/node_modules/npm/node_modules/node-gyp/lib/build.js', ctx);
    assert.equal(isKnownNoise('python3', lib, 'write'), false);
  });
});
