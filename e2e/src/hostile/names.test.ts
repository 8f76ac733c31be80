// Hostile suite, names (issue 13 items 4 and 11): NUL bytes and path-like names and versions sent
// to the built server on SQLite and on PostgreSQL are refused at the boundary with a 400 that names
// the node; nothing is stored and nothing is asked of the upstream. (The unit tests of the same rules:
// packages/server/src/http/input-validation.test.ts.)
import { strict as assert } from 'node:assert';
import { mkdtemp, rm } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startFixtureRegistry } from '../support/fixture-registry.js';
import type { FixtureRegistry } from '../support/fixture-registry.js';
import { HostileTally } from '../support/hostile-tally.js';
import { graphOf, postScan } from '../support/scan-api.js';
import { serverDatabase } from '../support/server-db.js';
import type { ServerDatabase } from '../support/server-db.js';
import { startServerProcess } from '../support/server-process.js';
import type { ServerProcess } from '../support/server-process.js';

const NUL = '\u0000';
const BAD_NAMES = ['..', '../../etc/passwd', '%2e%2e', `good${NUL}`, NUL, '.', 'node_modules'];
const BAD_VERSIONS = ['latest', '1.0', '../1.0.0', `1.0.0${NUL}`, '^1.0.0', '../../etc/passwd'];
/** Route parameters: the vetted registry's and the API's. */
const BAD_PATHS = [
  '/%2e%2e',
  '/..%2F..%2Fetc%2Fpasswd',
  '/%2e%2e/-/x-1.0.0.tgz',
  '/good%00',
  '/api/v1/scans/%00',
  '/api/v1/packages/..%2F..%2Fetc%2Fpasswd/1.0.0',
  '/api/v1/packages/good/1.0.0%00',
  '/api/v1/packages/%252e%252e/1.0.0',
];

const tally = new HostileTally('names');

for (const kind of ['sqlite', 'postgres'] as const) {
  describe(`hostile: names and versions (${kind})`, () => {
    let registry: FixtureRegistry;
    let tmp: string;
    let database: ServerDatabase;
    let server: ServerProcess;
    /** A valid node beside each bad one, so the 400 must name the right index. */
    let good: Record<string, unknown>;

    before(async () => {
      registry = await startFixtureRegistry({
        packages: [
          { manifest: { name: 'good', version: '1.0.0' }, files: { 'index.js': 'module.exports = 1;\n' } },
        ],
      });
      tmp = await mkdtemp(path.join(os.tmpdir(), 'sr-hostile-names-'));
      database = serverDatabase(kind, tmp);
      server = await startServerProcess({
        SR_AUTH: 'none',
        SR_DATA_DIR: tmp,
        SR_UPSTREAM_REGISTRY: registry.url,
        ...database.env,
      });
      good = (graphOf(registry, [['good', '1.0.0']], []) as { nodes: Record<string, unknown>[] }).nodes[0]!;
    });
    after(async () => {
      server.child.kill('SIGTERM');
      await server.exited;
      database.dispose();
      await registry.close();
      await rm(tmp, { recursive: true, force: true });
      if (kind === 'postgres') tally.print();
    });

    const post = (nodes: Record<string, unknown>[], label?: string) =>
      postScan(
        server.url,
        {
          root: { name: 'hostile', version: '1.0.0' },
          lockfileVersion: 3,
          nodes,
          edges: nodes.map((node) => ({ from: '', to: node.key, type: 'prod' })),
        },
        label,
      );
    const refused = async (
      body: { status: number; body: { error?: string; code?: string } },
      pattern: RegExp,
    ): Promise<void> => {
      assert.equal(body.status, 400, JSON.stringify(body.body));
      assert.equal(body.body.code, 'ERR_SR_INVALID_BODY');
      assert.match(body.body.error ?? '', pattern);
    };

    test('bad names and versions of registry nodes are 400 naming the node', async () => {
      for (const name of BAD_NAMES) {
        await tally.check(async () =>
          refused(
            await post([good, { ...good, key: 'node_modules/bad', name }]),
            /graph\.nodes\[1\]\.name: /,
          ),
        );
      }
      for (const version of BAD_VERSIONS) {
        await tally.check(async () =>
          refused(await post([{ ...good, version }]), /graph\.nodes\[0\]\.version: /),
        );
      }
    });

    test('a NUL byte in the label, a key or an integrity is a 400', async () => {
      await tally.check(async () =>
        refused(await post([good], `ci${NUL}`), /label: must not contain a NUL byte/),
      );
      await tally.check(async () =>
        refused(await post([{ ...good, key: `node_modules/good${NUL}` }]), /graph\.nodes\[0\]\.key: /),
      );
      await tally.check(async () =>
        refused(await post([{ ...good, integrity: `sha512-${NUL}` }]), /graph\.nodes\[0\]\.integrity: /),
      );
    });

    test('a NUL byte in an edge is a 400 naming the edge', async () => {
      await tally.check(async () => {
        const answer = await postScan(server.url, {
          root: { name: 'hostile', version: '1.0.0' },
          lockfileVersion: 3,
          nodes: [good],
          edges: [{ from: `node_modules/good${NUL}`, to: good.key, type: 'prod' }],
        });
        await refused(answer, /graph\.edges\[0\]\.from: must not contain a NUL byte/);
      });
    });

    test('path-like route parameters are refused (4xx, never 500, never fetched upstream)', async () => {
      for (const route of BAD_PATHS) {
        await tally.check(async () => {
          const res = await fetch(`${server.url}${route}`);
          await res.arrayBuffer();
          assert.ok(res.status >= 400 && res.status < 500, `${route}: ${res.status}`);
        });
      }
    });

    test('nothing was stored and the upstream was never asked', async () => {
      await tally.check(() => {
        for (const table of ['scans', 'scan_packages', 'jobs', 'artifacts']) {
          const [row] = database.query(`SELECT count(*) AS n FROM ${table}`);
          assert.equal(Number(row?.n), 0, `${table} holds rows`);
        }
        assert.deepEqual(
          registry.requests.map((request) => request.url),
          [],
          'the upstream was asked',
        );
      });
    });
  });
}
