import { strict as assert } from 'node:assert';
import { describe, test } from 'node:test';
import { countStates } from '@secure-registry/shared';
import type { PackageState } from '@secure-registry/shared';
import { makeGraph } from '../test-support/graph.js';
import { isSettled, planBlocked } from './scan-view.js';

const graph = makeGraph(
  [
    { name: 'app-dep', version: '1.0.0', deps: ['mid'] },
    { name: 'mid', version: '2.0.0', deps: ['bad'] },
    { name: 'bad', version: '0.0.1' },
    { name: 'other', version: '1.0.0' },
  ],
  ['app-dep', 'other'],
);

function states(entries: Record<string, PackageState>) {
  return new Map(Object.entries(entries).map(([name, state]) => [`node_modules/${name}`, { state }]));
}

describe('scan view', () => {
  test('dependents of a rejected package are blocked with the path down to it', () => {
    const updates = planBlocked(
      graph,
      states({ 'app-dep': 'approved', mid: 'pending', bad: 'rejected', other: 'approved' }),
    );
    assert.deepEqual(
      updates.map((u) => [u.key, u.blockedBy.path]),
      [
        ['node_modules/mid', ['mid@2.0.0', 'bad@0.0.1']],
        ['node_modules/app-dep', ['app-dep@1.0.0', 'mid@2.0.0', 'bad@0.0.1']],
      ],
    );
    assert.equal(updates[1]?.blockedBy.name, 'bad');
    assert.equal(updates[1]?.blockedBy.version, '0.0.1');
    assert.match(updates[1]?.reason ?? '', /depends on rejected bad@0.0.1/);
  });

  test('nothing is blocked without rejections; already blocked or rejected ones are left alone', () => {
    assert.deepEqual(
      planBlocked(graph, states({ 'app-dep': 'approved', mid: 'review', bad: 'approved' })),
      [],
    );
    const again = planBlocked(graph, states({ 'app-dep': 'blocked', mid: 'rejected', bad: 'rejected' }));
    assert.deepEqual(again, []);
  });

  test('counts and settledness', () => {
    const packages = [{ state: 'approved' }, { state: 'pending' }, { state: 'blocked' }] as const;
    assert.deepEqual(countStates(packages), {
      total: 3,
      pending: 1,
      analyzing: 0,
      approved: 1,
      rejected: 0,
      review: 0,
      blocked: 1,
      unvettable: 0,
    });
    assert.equal(isSettled(packages), false);
    assert.equal(isSettled([{ state: 'review' }, { state: 'unvettable' }]), true);
  });
});
