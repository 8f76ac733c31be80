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

test('an infrastructure failure (upstream outage) exits 4 with its reason; a rejection still wins (13.13)', async () => {
  const { UPSTREAM_UNAVAILABLE_RULE } = await import('@secure-registry/shared');
  const { infrastructureFailures } = await import('./exit-codes.js');
  const reason = 'could not fetch from upstream: upstream answered 500 for http://127.0.0.1:1/x (3 attempts)';
  const outage = {
    state: 'review' as const,
    reason,
    findings: [{ rule: UPSTREAM_UNAVAILABLE_RULE, severity: 'high' as const, message: 'm', evidence: [] }],
  };
  for (const failOn of ['unvettable', 'review', 'rejected', 'none'] as const) {
    assert.equal(exitCodeFor([outage, { state: 'approved' }], failOn), ExitCode.RemoteError, failOn);
  }
  assert.equal(exitCodeFor([outage, { state: 'rejected' }], 'unvettable'), ExitCode.Rejected);
  assert.equal(exitCodeFor([{ ...outage, findings: [] }], 'unvettable'), ExitCode.NeedsAttention);
  assert.deepEqual(infrastructureFailures([outage, outage]), [
    { cause: UPSTREAM_UNAVAILABLE_RULE, reason, packages: 2 },
  ]);
});

test('a full disk on the server is an infrastructure failure too: exit 4, its own JSON code (13.9, 13.13)', async () => {
  const { STORAGE_FULL_RULE, UPSTREAM_UNAVAILABLE_RULE } = await import('@secure-registry/shared');
  const { infrastructureErrorCode, infrastructureFailures } = await import('./exit-codes.js');
  const full = {
    state: 'review' as const,
    reason: 'could not analyse: the disk is full (ENOSPC); analysed again by the next scan that contains it',
    findings: [{ rule: STORAGE_FULL_RULE, severity: 'high' as const, message: 'm', evidence: [] }],
  };
  const outage = {
    state: 'review' as const,
    reason: 'could not fetch from upstream: refused',
    findings: [{ rule: UPSTREAM_UNAVAILABLE_RULE, severity: 'high' as const, message: 'm', evidence: [] }],
  };
  assert.equal(exitCodeFor([full, { state: 'approved' }], 'unvettable'), ExitCode.RemoteError);
  assert.equal(exitCodeFor([full], 'none'), ExitCode.RemoteError);
  assert.equal(exitCodeFor([full, { state: 'rejected' }], 'unvettable'), ExitCode.Rejected);
  const failures = infrastructureFailures([full, full]);
  assert.deepEqual(failures, [{ cause: STORAGE_FULL_RULE, reason: full.reason, packages: 2 }]);
  assert.equal(infrastructureErrorCode(failures), 'ERR_SR_STORAGE_FULL');
  assert.equal(infrastructureErrorCode(infrastructureFailures([outage])), 'ERR_SR_UPSTREAM_UNAVAILABLE');
  assert.equal(infrastructureErrorCode(infrastructureFailures([full, outage])), 'ERR_SR_INFRASTRUCTURE');
});
