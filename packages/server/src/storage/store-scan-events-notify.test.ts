import { strict as assert } from 'node:assert';
import { describe, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { ScanEventHub } from '../services/scan-event-hub.js';
import { postgresBackend, sqliteBackend, withDatabase } from './test-support/backends.js';
import { EMPTY_GRAPH, scanPackage, stateEvent } from './test-support/fixtures.js';

/** Polls `condition` until it holds (generous: the machine may be at load 10). */
async function until(condition: () => boolean, what: string, limitMs = 60_000): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!condition()) {
    assert.ok(Date.now() < deadline, `timed out waiting for ${what}`);
    await delay(20);
  }
}

describe('scan events across replicas (postgres)', () => {
  test('an event appended through one store wakes the SSE listeners of that scan on another', () =>
    withDatabase(postgresBackend, async (database) => {
      const writer = await database.open();
      const reader = await database.open();
      await writer.createScan({ id: 'seen', label: undefined, graph: EMPTY_GRAPH, packages: [] });
      await writer.createScan({
        id: 'other',
        label: undefined,
        graph: EMPTY_GRAPH,
        packages: [scanPackage('node_modules/p')],
      });
      const hub = new ScanEventHub();
      const woken: string[] = [];
      hub.subscribe('seen', () => woken.push('seen'));
      hub.subscribe('other', () => woken.push('other'));
      const notified: string[] = [];
      const stop = await reader.watchScanEvents(
        (scanId) => {
          notified.push(scanId);
          hub.notify(scanId);
        },
        () => hub.notifyAll(),
      );
      try {
        const seq = await writer.appendScanEvent('seen', stateEvent('a', 0));
        await until(() => notified.length === 1, 'the notification from the other store');
        assert.deepEqual(notified, ['seen'], 'the payload is the scan id, nothing else');
        assert.deepEqual(woken, ['seen'], 'only the listeners of that scan wake');
        const stored = await reader.listScanEvents('seen', seq - 1);
        assert.equal(stored.length, 1, 'the woken stream reads the event from the table');
        // Package state changes (the bulk of a scan's progress) are announced too.
        const changed = await writer.transitionScanPackages(
          'other',
          async (read) => (await read(['node_modules/p'])).map((pkg) => ({ ...pkg, state: 'approved' })),
          (pkg, counts) => ({ ...stateEvent(pkg.key, 2), counts }),
        );
        assert.equal(changed?.changed.length, 1);
        await until(() => notified.length === 2, 'the notification of the state change');
        assert.deepEqual(notified, ['seen', 'other']);
      } finally {
        await stop();
      }
      // After stopping, appends are no longer delivered.
      await writer.appendScanEvent('other', stateEvent('b', 1));
      await delay(300);
      assert.deepEqual(notified, ['seen', 'other']);
    }));

  test('a store does not hear its own appends back (its process woke its streams already)', () =>
    withDatabase(postgresBackend, async (database) => {
      const own = await database.open();
      const other = await database.open();
      await own.createScan({ id: 'mine', label: undefined, graph: EMPTY_GRAPH, packages: [] });
      await own.createScan({ id: 'theirs', label: undefined, graph: EMPTY_GRAPH, packages: [] });
      const notified: string[] = [];
      const stop = await own.watchScanEvents(
        (scanId) => notified.push(scanId),
        () => undefined,
      );
      try {
        await own.appendScanEvent('mine', stateEvent('a', 0));
        await other.appendScanEvent('theirs', stateEvent('b', 1));
        // One listening connection gets notifications in commit order: once the later one from
        // the other store is here, the earlier own one would have been too.
        await until(() => notified.includes('theirs'), "the other store's notification");
        assert.deepEqual(notified, ['theirs']);
      } finally {
        await stop();
      }
    }));
});

test('SQLite has no notifications: watching scan events is a no-op that stops cleanly', () =>
  withDatabase(sqliteBackend, async (database) => {
    const store = await database.open();
    await store.createScan({ id: 's', label: undefined, graph: EMPTY_GRAPH, packages: [] });
    const notified: string[] = [];
    const stop = await store.watchScanEvents(
      (scanId) => notified.push(scanId),
      () => undefined,
    );
    await store.appendScanEvent('s', stateEvent('a', 0));
    await stop();
    assert.deepEqual(notified, []);
  }));
