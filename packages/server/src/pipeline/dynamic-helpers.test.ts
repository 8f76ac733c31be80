import { strict as assert } from 'node:assert';
import { stat, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import type { BehaviourReport, TraceEvent } from '@secure-registry/shared';
import { buildTarball } from '../test-support/fake-upstream.js';
import { writePackageDir } from './package-dir.js';
import { boundEvents, withoutSandboxPlumbing } from './phase-events.js';
import { SandboxSlots } from './sandbox-slots.js';

const emptyReport = (over: Partial<BehaviourReport> = {}): BehaviourReport => ({
  phase: 'install', package: 'a@1.0.0', status: 'completed', durationMs: 1, processes: [], files: [], dns: [],
  connections: [], http: [], honeytokenHits: [], decoys: [], browser: [], ...over,
}); // prettier-ignore

describe('SandboxSlots', () => {
  test('never runs more than the limit and hands a released slot to the next waiter', async () => {
    const slots = new SandboxSlots(2, 1000, 2);
    const a = await slots.acquire();
    const b = await slots.acquire();
    let third = false;
    const c = slots.acquire().then((s) => ((third = true), s));
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(third, false, 'the third run waits');
    a.release();
    a.release(); // idempotent
    const got = await c;
    assert.equal(third, true);
    let fourth = false;
    void slots.acquire().then(() => (fourth = true));
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(fourth, false, 'a double release did not free a second slot');
    b.release();
    got.release();
  });

  test('the timeout grows with the runs per core and never drops below the base', () => {
    const slots = new SandboxSlots(8, 60_000, 2);
    assert.equal(slots.timeoutFor(1), 60_000);
    assert.equal(slots.timeoutFor(2), 60_000);
    assert.equal(slots.timeoutFor(4), 120_000);
  });
});

describe('phase events', () => {
  const ev = (seq: number, kind: 'file' | 'dns' | 'connect'): TraceEvent =>
    kind === 'file'
      ? { seq, ts: seq, pid: 1, kind, op: 'read', path: `/f${seq}` }
      : kind === 'dns'
        ? { seq, ts: seq, pid: 1, kind, name: `n${seq}.example`, qtype: 'A' }
        : { seq, ts: seq, pid: 1, kind, protocol: 'tcp', address: '127.0.0.1', port: 15003 };

  test("the decoys' loopback reports are removed, other connections kept", () => {
    const other: TraceEvent = {
      seq: 9,
      ts: 9,
      pid: 1,
      kind: 'connect',
      protocol: 'tcp',
      address: '198.51.100.7',
      port: 15003,
    };
    assert.deepEqual(withoutSandboxPlumbing([ev(1, 'connect'), other]), [other]);
  });

  test('bounded events keep the cited and non-file events first, in trace order', () => {
    const events = [...Array.from({ length: 10 }, (_, i) => ev(i, 'file')), ev(10, 'dns'), ev(11, 'dns')];
    const report = emptyReport({ files: [{ op: 'read', path: '/f7', class: 'credentials', seq: [7] }] });
    const out = boundEvents(events, report, 4);
    assert.deepEqual(
      out.events.map((e) => e.seq),
      [0, 7, 10, 11],
    );
    assert.equal(out.omitted, 8);
    assert.equal(boundEvents(events, report, 100).omitted, 0);
  });
});

describe('writePackageDir', () => {
  test('writes the files with the modes npm gives them (bins executable) and parses the manifest', async () => {
    const built = await buildTarball({
      'package.json': '{"name":"x","version":"1.0.0","bin":{"run":"bin/run"}}',
      'bin/run': '#!/bin/sh\necho hi\n',
      'bin/other': '#!/bin/sh\necho no\n',
      'lib/index.js': 'module.exports = 1;\n',
    });
    const pkg = await writePackageDir(built.bytes);
    try {
      assert.deepEqual(pkg.manifest, { name: 'x', version: '1.0.0', bin: { run: 'bin/run' } });
      assert.deepEqual([...pkg.files].sort(), ['bin/other', 'bin/run', 'lib/index.js', 'package.json']);
      assert.equal((await stat(join(pkg.dir, 'bin/run'))).mode & 0o777, 0o755);
      // npm does not guess: a script that is neither a bin nor executable in the archive is not.
      assert.equal((await stat(join(pkg.dir, 'bin/other'))).mode & 0o777, 0o644);
      assert.equal((await stat(join(pkg.dir, 'lib/index.js'))).mode & 0o777, 0o644);
      assert.equal(await readFile(join(pkg.dir, 'lib/index.js'), 'utf8'), 'module.exports = 1;\n');
    } finally {
      await pkg.cleanup();
    }
    await assert.rejects(stat(pkg.dir));
  });

  test('an invalid manifest gives no manifest (no phases), not an exception', async () => {
    const pkg = await writePackageDir((await buildTarball({ 'package.json': '{nope' })).bytes);
    assert.equal(pkg.manifest, undefined);
    await pkg.cleanup();
  });
});
