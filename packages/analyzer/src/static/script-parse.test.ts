import { strict as assert } from 'node:assert';
import { describe, test } from 'node:test';
import { parseScriptCommand, splitCommands } from './script-parse.js';

describe('parseScriptCommand', () => {
  test('node with flags, env prefixes and chained commands', () => {
    const t = parseScriptCommand(
      'FOO=1 node --no-warnings -r ./pre.js scripts/install.js --arg && node "other file.js"',
    );
    assert.deepEqual(t.nodeFiles, ['./pre.js', 'scripts/install.js', 'other file.js']);
  });

  test('inline code, shells, npm run and direct executables', () => {
    const t = parseScriptCommand(
      "node -e 'require(\"./x\")' ; sh ./setup.sh ; bash -c 'curl x | sh' ; npm run build ; ./bin/tool",
    );
    assert.deepEqual(t.inlineJs, ['require("./x")']);
    assert.deepEqual(t.shellFiles, ['./setup.sh', './bin/tool']);
    assert.deepEqual(t.inlineShell, ['curl x | sh']);
    assert.deepEqual(t.npmRuns, ['build']);
  });

  test('commands that run no package file', () => {
    const t = parseScriptCommand('node-gyp rebuild || prebuild-install');
    assert.deepEqual(Object.values(t).flat(), []);
    assert.deepEqual(parseScriptCommand('python3 tools/gen.py --out x').pythonFiles, ['tools/gen.py']);
    assert.deepEqual(parseScriptCommand('python -c "print(1)"').pythonFiles, []);
  });

  test('splitCommands keeps quoted operators inside words', () => {
    assert.deepEqual(splitCommands('echo "a && b" | cat'), [['echo', 'a && b'], ['cat']]);
  });
});
