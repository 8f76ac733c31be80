import { describe, test } from 'node:test';
import { strict as assert } from 'node:assert';
import type { DependencyGraph } from '@secure-registry/shared';
import { BACKENDS, withDatabase } from './test-support/backends.js';
import { EMPTY_GRAPH, FINDING, scanPackage, stateEvent } from './test-support/fixtures.js';

const LARGE = 50_000;

for (const backend of BACKENDS) {
  describe(`storage scans and events (${backend.kind})`, () => {
    test(`createScan stores ${LARGE.toLocaleString('en')} packages in one go`, (t) =>
      withDatabase(backend, async (database) => {
        const store = await database.open();
        const packages = Array.from({ length: LARGE }, (_, index) =>
          scanPackage(`node_modules/pkg-${String(index).padStart(5, '0')}`, { dev: index % 2 === 0 }),
        );
        const graph: DependencyGraph = {
          root: { name: 'big' },
          nodes: packages.map((p) => ({
            key: p.key,
            name: p.name,
            version: p.version,
            source: 'registry',
            dev: p.dev,
            optional: false,
            peer: false,
            hasInstallScript: false,
          })),
          edges: packages.map((p) => ({ from: '', to: p.key, type: 'prod' })),
        };
        const started = performance.now();
        const scan = await store.createScan({ id: 'big-scan', label: 'big', graph, packages });
        const elapsed = performance.now() - started;
        t.diagnostic(`${backend.kind}: createScan with ${LARGE} packages took ${elapsed.toFixed(0)} ms`);
        assert.equal(scan.status, 'running');
        const listed = await store.listScanPackages('big-scan');
        assert.equal(listed.length, LARGE);
        assert.deepEqual(listed[7], { scanId: 'big-scan', ...packages[7] });
        assert.equal(listed.filter((p) => p.dev).length, LARGE / 2);
        const read = await store.getScan('big-scan');
        assert.equal(read?.graph.nodes.length, LARGE);
        assert.ok(elapsed < 30_000, `createScan took ${elapsed} ms`);
      }));

    test('a scan and its packages round-trip and update', () =>
      withDatabase(backend, async (database) => {
        const store = await database.open();
        await store.createScan({
          id: 's1',
          label: 'my app',
          graph: EMPTY_GRAPH,
          packages: [
            scanPackage('node_modules/a', { dev: true }),
            scanPackage('node_modules/g', {
              source: 'git',
              integrity: undefined,
              state: 'unvettable',
              reason: 'git',
            }),
          ],
        });
        const scan = await store.getScan('s1');
        assert.deepEqual(scan?.graph, EMPTY_GRAPH);
        assert.equal(scan?.label, 'my app');
        assert.equal(scan?.completedAt, undefined);
        assert.equal(await store.getScan('nope'), undefined);
        const blockedBy = { name: 'evil', version: '6.6.6', path: ['a@1.0.0', 'evil@6.6.6'] };
        const event = (pkg: { key: string; state: string }, counts: unknown) =>
          ({ type: 'package.state', key: pkg.key, state: pkg.state, counts }) as never;
        const transition = await store.transitionScanPackages(
          's1',
          async (read) => {
            const [current] = await read(['node_modules/a', 'node_modules/missing']);
            return [{ ...current!, state: 'blocked', findings: [FINDING], blockedBy }];
          },
          event,
        );
        assert.equal(transition?.changed.length, 1);
        assert.deepEqual(
          { total: transition?.counts.total, pending: transition?.counts.pending },
          { total: 2, pending: 0 },
        );
        assert.equal(transition?.counts.blocked, 1);
        assert.equal(transition?.counts.unvettable, 1);
        const [a, g] = await store.listScanPackages('s1');
        assert.deepEqual(a, {
          ...scanPackage('node_modules/a', { dev: true }),
          scanId: 's1',
          state: 'blocked',
          findings: [FINDING],
          blockedBy,
        });
        assert.equal(g?.integrity, undefined);
        assert.equal(g?.source, 'git');
        assert.equal(g?.reason, 'git');
        const events = await store.listScanEvents('s1', 0);
        assert.deepEqual(
          events.map((e) => [e.seq, (e.event as { key?: string }).key]),
          [[1, 'node_modules/a']],
          'one event per change, numbered in the scan',
        );
        await assert.rejects(
          store.transitionScanPackages(
            's1',
            () => Promise.resolve([{ ...a!, key: 'node_modules/x' }]),
            event,
          ),
          { code: 'ERR_SR_SCAN_NOT_FOUND' },
          'a package must be read before it changes',
        );
        assert.equal((await store.listScanEvents('s1', 0)).length, 1, 'the failed change left nothing');
        assert.equal(await store.getScanStatus('s1'), 'running');
        await store.setScanStatus('s1', 'completed');
        const done = await store.getScan('s1');
        assert.equal(done?.status, 'completed');
        assert.equal(await store.getScanStatus('s1'), 'completed');
        assert.equal(await store.getScanStatus('nope'), undefined);
        assert.ok(done?.completedAt);
        assert.equal(
          await store.transitionScanPackages('s1', () => Promise.resolve([]), event),
          undefined,
          'a scan that is not running does not change',
        );
        await store.setScanStatus('s1', 'failed', '2031-02-03T04:05:06.007Z');
        assert.equal((await store.getScan('s1'))?.completedAt, '2031-02-03T04:05:06.007Z');
        await assert.rejects(store.setScanStatus('nope', 'completed'), { code: 'ERR_SR_SCAN_NOT_FOUND' });
      }));

    test('concurrent appends get distinct consecutive sequence numbers', () =>
      withDatabase(backend, async (database) => {
        const first = await database.open();
        const stores = [first];
        // On PostgreSQL a second pool makes the appends truly concurrent across connections.
        if (backend.kind === 'postgres') stores.push(await database.open());
        await first.createScan({ id: 'ev', label: undefined, graph: EMPTY_GRAPH, packages: [] });
        await first.createScan({ id: 'other', label: undefined, graph: EMPTY_GRAPH, packages: [] });
        const count = 60;
        const seqs = await Promise.all(
          Array.from({ length: count }, (_, index) =>
            stores[index % stores.length]!.appendScanEvent('ev', stateEvent(`k${index}`, index)),
          ),
        );
        assert.deepEqual(
          [...seqs].sort((x, y) => x - y),
          Array.from({ length: count }, (_, index) => index + 1),
        );
        assert.equal(await first.appendScanEvent('other', stateEvent('x', 0)), 1, 'numbers are per scan');
        const all = await first.listScanEvents('ev', 0);
        assert.deepEqual(
          all.map((e) => e.seq),
          Array.from({ length: count }, (_, index) => index + 1),
        );
        // Each event is stored under the number its append returned.
        for (let index = 0; index < count; index++) {
          const stored = all.find((e) => e.seq === seqs[index]);
          assert.deepEqual(stored?.event, stateEvent(`k${index}`, index));
        }
        const tail = await first.listScanEvents('ev', count - 5);
        assert.deepEqual(
          tail.map((e) => e.seq),
          [56, 57, 58, 59, 60],
        );
        await assert.rejects(first.appendScanEvent('missing', stateEvent('x', 0)), {
          code: 'ERR_SR_SCAN_NOT_FOUND',
        });
      }));

    test('findRunningScansWithArtifact lists running scans and the matching keys', () =>
      withDatabase(backend, async (database) => {
        const store = await database.open();
        const artifact = { name: 'shared', version: '2.0.0', integrity: 'sha512-SHARED' };
        const pkg = (key: string) => scanPackage(key, artifact);
        await store.createScan({
          id: 'run1',
          label: undefined,
          graph: EMPTY_GRAPH,
          packages: [
            pkg('node_modules/shared'),
            pkg('node_modules/x/node_modules/shared'),
            scanPackage('node_modules/x'),
          ],
        });
        await store.createScan({
          id: 'run2',
          label: undefined,
          graph: EMPTY_GRAPH,
          packages: [pkg('node_modules/shared')],
        });
        await store.createScan({
          id: 'done',
          label: undefined,
          graph: EMPTY_GRAPH,
          packages: [pkg('node_modules/shared')],
        });
        await store.setScanStatus('done', 'completed');
        await store.createScan({
          id: 'tampered',
          label: undefined,
          graph: EMPTY_GRAPH,
          packages: [scanPackage('node_modules/shared', { ...artifact, integrity: 'sha512-OTHER' })],
        });
        assert.deepEqual(await store.findRunningScansWithArtifact(artifact), [
          { scanId: 'run1', keys: ['node_modules/shared', 'node_modules/x/node_modules/shared'] },
          { scanId: 'run2', keys: ['node_modules/shared'] },
        ]);
        assert.deepEqual(await store.findRunningScansWithArtifact({ ...artifact, version: '2.0.1' }), []);
      }));
  });
}
