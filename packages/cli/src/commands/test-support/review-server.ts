/**
 * A real secure-registry server (token auth, 127.0.0.1:0) through its public entry point, with
 * two artifacts held for review and one approved, and the built CLI run as a subprocess.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { issueToken, startServer } from '@secure-registry/server';
import type { RunningServer } from '@secure-registry/server';
import type { Finding } from '@secure-registry/shared';

export { BIN as CLI_BIN } from '../../test-support/run-cli.js';

export const HELD_FINDING: Finding = {
  rule: 'install-script-new',
  severity: 'high',
  message: 'an install script appears in a patch release',
  evidence: [{ kind: 'file', path: 'package.json', line: 7, excerpt: '"postinstall": "node setup.js"' }],
};

export interface ReviewServer {
  server: RunningServer;
  tokens: { ci: string; reviewer: string };
  home: string;
  env(token: string | undefined): Record<string, string>;
  dispose(): Promise<void>;
}

export async function startReviewServer(): Promise<ReviewServer> {
  const home = await mkdtemp(join(tmpdir(), 'sr-cli-review-'));
  const server = await startServer({
    env: process.env,
    dataDir: join(home, 'server'),
    port: 0,
    auth: 'token',
    // Never contacted: the artifacts below are written directly.
    upstream: 'http://127.0.0.1:9/',
  });
  const held = {
    verdict: 'review' as const,
    reason: 'held: install script new in a patch release',
    findings: [HELD_FINDING],
    ruleSetVersion: 'rules-test',
  };
  await server.store.upsertArtifact({ name: 'held-a', version: '1.0.1', integrity: 'sha512-HELDA' }, held);
  await server.store.upsertArtifact(
    { name: '@scope/held-b', version: '2.0.0', integrity: 'sha512-HELDB' },
    held,
  );
  await server.store.upsertArtifact(
    { name: 'fine-c', version: '3.0.0', integrity: 'sha512-FINEC' },
    { verdict: 'approved', findings: [] },
  );
  const tokens = {
    ci: (await issueToken(server.store, { role: 'ci', label: 'ci-bot' })).token,
    reviewer: (await issueToken(server.store, { role: 'reviewer', label: 'carol' })).token,
  };
  return {
    server,
    tokens,
    home,
    env(token) {
      return {
        PATH: process.env.PATH ?? '',
        SR_SANDBOX: process.env.SR_SANDBOX ?? 'off',
        HOME: home,
        CI: '1',
        NO_COLOR: '1',
        SECURE_REGISTRY_CONFIG_DIR: join(home, 'config'),
        SECURE_REGISTRY_DATA_DIR: join(home, 'data'),
        SECURE_REGISTRY_SERVER: server.url,
        ...(token ? { SECURE_REGISTRY_TOKEN: token } : {}),
      };
    },
    async dispose() {
      await server.close();
      await rm(home, { recursive: true, force: true });
    },
  };
}

// The built CLI as a subprocess: one runner for every CLI test (PATH and SANDBOX=off are
// defaulted there; the review server's `env()` sets both anyway).
export { runCli } from '../../test-support/run-cli.js';
import type { CliRun } from '../../test-support/run-cli.js';
export type CliResult = CliRun;

export function describe(result: CliResult): string {
  return `exit ${result.code}\n--- stdout\n${result.stdout}\n--- stderr\n${result.stderr}`;
}
