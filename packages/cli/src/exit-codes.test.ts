import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import type { PackageState } from '@secure-registry/shared';
import { ExitCode, exitCodeFor } from './exit-codes.js';

const of = (...states: PackageState[]) => states.map((state) => ({ state }));

test('exit code policy by --fail-on', () => {
  const table: [PackageState[], Record<'unvettable' | 'review' | 'rejected' | 'none', number>][] = [
    [['approved'], { unvettable: 0, review: 0, rejected: 0, none: 0 }],
    [['approved', 'rejected'], { unvettable: 1, review: 1, rejected: 1, none: 0 }],
    [['blocked', 'review'], { unvettable: 1, review: 1, rejected: 1, none: 0 }],
    [['review', 'approved'], { unvettable: 2, review: 2, rejected: 0, none: 0 }],
    [['unvettable'], { unvettable: 2, review: 0, rejected: 0, none: 0 }],
    [['pending'], { unvettable: 2, review: 2, rejected: 0, none: 0 }],
    [[], { unvettable: 0, review: 0, rejected: 0, none: 0 }],
  ];
  for (const [states, expected] of table) {
    for (const [failOn, code] of Object.entries(expected)) {
      assert.equal(
        exitCodeFor(of(...states), failOn as never),
        code,
        `${states.join(',')} --fail-on ${failOn}`,
      );
    }
  }
  assert.deepEqual(ExitCode, { Ok: 0, Rejected: 1, NeedsAttention: 2, UsageError: 3, RemoteError: 4 });
});
