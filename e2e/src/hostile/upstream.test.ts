/**
 * Issue 13 items 13 and 15: the built CLI and a real `secure-registry-server` process against a
 * loopback upstream that fails (answers 500, hangs, closes connections, refuses them) or is slow.
 * Every failure ends as an infrastructure failure: exit 4 with the reason (which upstream, what
 * happened) in one line, in plain output and in `--json`; the package is never approved. A slow
 * upstream within SR_UPSTREAM_TIMEOUT_MS is no failure, and once upstream answers again a re-scan
 * analyses the package normally. Prints `hostile upstream: tried N, handled N, failed N`.
 */
import { strict as assert } from 'node:assert';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { scaledMs } from '@secure-registry/shared';
import { describeResult, makeCliHome, runCli } from '../support/cli.js';
import type { CliHome } from '../support/cli.js';
import { startFixtureRegistry } from '../support/fixture-registry.js';
import { HostileTally } from '../support/hostile-tally.js';
import type { FailureRule, FixturePackage, FixtureRegistry } from '../support/fixture-registry.js';
import type { CommandResult } from '../support/project.js';
import { startServerProcess } from '../support/server-process.js';
import type { ServerProcess } from '../support/server-process.js';

const NAMES = ['outage-500', 'outage-hang', 'outage-reset', 'outage-refused', 'outage-slow'] as const;

const fixture = (name: string): FixturePackage => ({
  manifest: { name, version: '1.0.0', main: 'index.js' },
  files: { 'index.js': `module.exports = ${JSON.stringify(name)};\n` },
});

const tally = new HostileTally('upstream');

/** A free loopback port with nothing listening on it (connections are refused). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('hostile upstream: outages are infrastructure failures (exit 4 with the reason)', () => {
  let work: string;
  let home: CliHome;
  let registry: FixtureRegistry;
  let slowRegistry: FixtureRegistry;
  const servers: ServerProcess[] = [];
  /** Wall-clock limit of one upstream request, as the server is configured (scaled once by the load). */
  let timeoutMs: number;

  before(async () => {
    work = await mkdtemp(path.join(os.tmpdir(), 'sr-hostile-upstream-'));
    home = await makeCliHome(work);
    timeoutMs = scaledMs(3000);
    registry = await startFixtureRegistry({ packages: NAMES.map(fixture) });
    // Slow but well within the timeout: a quarter of it before every answer.
    slowRegistry = await startFixtureRegistry({
      packages: [fixture('outage-slow')],
      latency: Math.round(timeoutMs / 4),
    });
  });
  after(async () => {
    for (const server of servers) {
      server.child.kill('SIGKILL');
      await server.exited;
    }
    await registry?.close();
    await slowRegistry?.close();
    await rm(work, { recursive: true, force: true });
    tally.print();
  });

  /** A server process of its own (its own data) with the given upstream. */
  async function server(upstream: string): Promise<ServerProcess> {
    const dataDir = await mkdtemp(path.join(work, 'server-'));
    const started = await startServerProcess({
      SR_AUTH: 'none',
      SR_DATA_DIR: dataDir,
      SR_UPSTREAM_REGISTRY: upstream,
      SR_UPSTREAM_TIMEOUT_MS: String(timeoutMs),
    });
    servers.push(started);
    return started;
  }

  /** A project whose lockfile names `name@1.0.0` from `upstream`, with the fixture's integrity. */
  async function project(name: string, upstream: FixtureRegistry): Promise<string> {
    const dir = path.join(work, `project-${name}-${Math.random().toString(36).slice(2, 8)}`);
    await mkdir(dir, { recursive: true });
    const pkg = upstream.find(name, '1.0.0');
    assert.ok(pkg, `${name} is a fixture`);
    const root = { name: 'hostile-project', version: '1.0.0', dependencies: { [name]: '1.0.0' } };
    const lock = {
      name: root.name,
      version: root.version,
      lockfileVersion: 3,
      requires: true,
      packages: {
        '': root,
        [`node_modules/${name}`]: {
          version: '1.0.0',
          resolved: `${upstream.url}/${name}/-/${name}-1.0.0.tgz`,
          integrity: pkg.integrity,
        },
      },
    };
    await writeFile(path.join(dir, 'package.json'), JSON.stringify(root));
    await writeFile(path.join(dir, 'package-lock.json'), JSON.stringify(lock));
    return dir;
  }

  function scan(dir: string, via: ServerProcess, json = false): Promise<CommandResult> {
    return runCli(['scan', dir, ...(json ? ['--json'] : [])], {
      home,
      env: { SECURE_REGISTRY_SERVER: via.url },
      timeoutMs: 180_000,
    });
  }

  /** Exit 4 and the one line that names the failure: which upstream, what happened. */
  function assertInfrastructure(result: CommandResult, name: string, what: RegExp): void {
    assert.equal(result.code, 4, describeResult(result));
    const lines = result.stdout.split('\n').filter((line) => line.startsWith('infrastructure failure: '));
    assert.equal(lines.length, 1, describeResult(result));
    const line = lines[0]!;
    assert.match(line, /^infrastructure failure: could not fetch from upstream: /);
    assert.ok(line.includes(`/${name}`), `names the request: ${line}`);
    assert.match(line, what);
    assert.match(line, /\(1 package not analysed\)$/);
    assert.match(
      result.stdout,
      new RegExp(`failed +${name}@1\\.0\\.0`),
      'shown as failed, not held for review',
    );
    assert.doesNotMatch(result.stdout, /APPROVED/);
  }

  const failing: [string, FailureRule['kind'], RegExp][] = [
    [
      'outage-500',
      'status',
      /upstream answered 500 for http:\/\/127\.0\.0\.1:\d+\/outage-500 \(3 attempts\)/,
    ],
    [
      'outage-hang',
      'hang',
      /upstream did not answer http:\/\/127\.0\.0\.1:\d+\/outage-hang within \d+ ms \(3 attempts\)/,
    ],
    [
      'outage-reset',
      'reset',
      /cannot reach upstream http:\/\/127\.0\.0\.1:\d+\/outage-reset: .* \(3 attempts\)/,
    ],
  ];
  for (const [name, kind, what] of failing) {
    test(`upstream ${kind === 'status' ? 'answers 500' : kind === 'hang' ? 'hangs' : 'closes connections'}: exit 4 with the reason`, () =>
      tally.check(async () => {
        registry.setFailure({ match: `/${name}`, kind, ...(kind === 'status' ? { status: 500 } : {}) });
        try {
          const via = await server(registry.url);
          const dir = await project(name, registry);
          assertInfrastructure(await scan(dir, via), name, what);
          if (kind === 'status') {
            // --json: the same reason, as the document's error and on the package.
            const json = await scan(dir, via, true);
            assert.equal(json.code, 4, describeResult(json));
            const report = JSON.parse(json.stdout) as {
              exitCode: number;
              error: { kind: string; message: string };
              packages: { name: string; verdict: string; failure: { kind: string; reason: string } | null }[];
            };
            assert.equal(report.exitCode, 4);
            assert.equal(report.error.kind, 'infrastructure');
            assert.match(report.error.message, what);
            assert.equal(report.error.message.includes('\n'), false, 'one line');
            assert.equal(report.packages[0]?.failure?.kind, 'infrastructure');
            assert.notEqual(report.packages[0]?.verdict, 'approved');
            // Upstream is back: the failure did not stick, the re-scan analyses the package.
            registry.setFailure(null);
            const back = await scan(dir, via);
            assert.equal(back.code, 0, describeResult(back));
            assert.match(back.stdout, new RegExp(`APPROVED ${name}@1\\.0\\.0`));
          }
        } finally {
          registry.setFailure(null);
        }
      }));
  }

  test('upstream refuses connections: exit 4 with the reason', () =>
    tally.check(async () => {
      const port = await closedPort();
      const via = await server(`http://127.0.0.1:${port}/`);
      const dir = await project('outage-refused', registry);
      assertInfrastructure(
        await scan(dir, via),
        'outage-refused',
        new RegExp(
          `cannot reach upstream http://127\\.0\\.0\\.1:${port}/outage-refused: .*ECONNREFUSED.*\\(3 attempts\\)`,
        ),
      );
    }));

  test('upstream is slow but within SR_UPSTREAM_TIMEOUT_MS: the scan succeeds', () =>
    tally.check(async () => {
      const via = await server(slowRegistry.url);
      const dir = await project('outage-slow', slowRegistry);
      const result = await scan(dir, via);
      assert.equal(result.code, 0, describeResult(result));
      assert.match(result.stdout, /APPROVED outage-slow@1\.0\.0/);
      assert.doesNotMatch(result.stdout, /infrastructure failure/);
    }));

  test('a tarball of a name upstream does not have is 404, not 403 "not yet vetted" (13.15)', () =>
    tally.check(async () => {
      const via = servers[0] ?? (await server(registry.url));
      const response = await fetch(`${via.url}/no-such-name-upstream/-/no-such-name-upstream-1.0.0.tgz`);
      assert.equal(response.status, 404);
      const body = (await response.json()) as { error?: unknown };
      assert.equal(typeof body.error, 'string');
    }));
});
