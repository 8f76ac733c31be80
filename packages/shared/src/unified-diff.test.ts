import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import { unifiedDiff } from './unified-diff.js';

const paths = { oldPath: 'a/index.js', newPath: 'b/index.js' };

test('identical texts give an empty diff', () => {
  assert.deepEqual(unifiedDiff('a\nb\n', 'a\nb\n', paths), { kind: 'diff', text: '', added: 0, removed: 0 });
});

test('a changed line in the middle gives one hunk with context and line numbers', () => {
  const before = ['1', '2', '3', '4', '5', '6', '7', '8', '9'].join('\n') + '\n';
  const after = ['1', '2', '3', '4', 'five', '6', '7', '8', '9'].join('\n') + '\n';
  const result = unifiedDiff(before, after, paths);
  assert.equal(result.kind, 'diff');
  if (result.kind !== 'diff') return;
  assert.equal(
    result.text,
    [
      '--- a/index.js',
      '+++ b/index.js',
      '@@ -2,7 +2,7 @@',
      ' 2',
      ' 3',
      ' 4',
      '-5',
      '+five',
      ' 6',
      ' 7',
      ' 8',
      '',
    ].join('\n'),
  );
  assert.equal(result.added, 1);
  assert.equal(result.removed, 1);
});

test('an appended payload and a new file', () => {
  const result = unifiedDiff('module.exports = 1;\n', 'module.exports = 1;\neval(atob("x"));\n', paths);
  assert.equal(
    result.kind === 'diff' &&
      result.text.includes('@@ -1,1 +1,2 @@\n module.exports = 1;\n+eval(atob("x"));'),
    true,
  );
  const created = unifiedDiff('', 'a\nb\n', paths);
  assert.equal(created.kind === 'diff' && created.text.includes('@@ -0,0 +1,2 @@\n+a\n+b'), true);
});

test('far-apart changes give two hunks; huge inputs are refused', () => {
  const lines = Array.from({ length: 40 }, (_, i) => `line ${i}`);
  const changed = [...lines];
  changed[2] = 'X';
  changed[35] = 'Y';
  const result = unifiedDiff(lines.join('\n'), changed.join('\n'), paths);
  assert.equal(result.kind === 'diff' && (result.text.match(/^@@/gm) ?? []).length, 2);
  const big = Array.from({ length: 3000 }, (_, i) => `a${i}`).join('\n');
  const other = Array.from({ length: 3000 }, (_, i) => `b${i}`).join('\n');
  assert.deepEqual(unifiedDiff(big, other, { ...paths, maxCells: 1_000_000 }), { kind: 'too-large' });
});
