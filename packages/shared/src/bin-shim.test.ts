import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import type * as BinShim from '../bin-shim.js';
// The shim is plain JavaScript shipped beside dist/ (it runs before any build and on old Nodes).
const shim = (await import(new URL('../bin-shim.js', import.meta.url).href)) as typeof BinShim;

test('nodeAtLeast compares major, minor and patch numerically', () => {
  assert.equal(shim.nodeAtLeast('22.12.0'), true);
  assert.equal(shim.nodeAtLeast('v24.1.0'), true);
  assert.equal(shim.nodeAtLeast('22.9.3'), false);
  assert.equal(shim.nodeAtLeast('20.20.2'), false);
  assert.equal(shim.nodeAtLeast('22.13.0'), true);
  assert.equal(shim.nodeAtLeast('100.0.0'), true);
});

test('unsupportedNodeMessage: one line naming the required version, or nothing', () => {
  assert.equal(shim.unsupportedNodeMessage('secure-registry', '24.21.0', true, '/n'), undefined);
  const old = shim.unsupportedNodeMessage('secure-registry', '20.20.2', false, '/usr/bin/node');
  assert.equal(
    old,
    'secure-registry: needs Node.js 22.12.0 or later with node:sqlite (24 LTS recommended); this is Node.js 20.20.2 (/usr/bin/node)',
  );
  const flagged = shim.unsupportedNodeMessage('secure-registry-server', '22.12.0', false, '/n');
  assert.match(flagged ?? '', /this is Node\.js 22\.12\.0, which lacks node:sqlite/);
  assert.ok(!old!.includes('\n'));
});

test('this Node (the project’s) is supported', () => {
  assert.equal(shim.hasNodeSqlite(), true);
  assert.equal(shim.unsupportedNodeMessage('x'), undefined);
});
