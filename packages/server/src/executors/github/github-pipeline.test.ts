// A scan with the github executor (against the GitHub API stand-in, the runner program run locally in
// the real sandbox) gives the same verdicts as the local sandbox.
import { strict as assert } from 'node:assert';
import { after, before, describe, test } from 'node:test';
import { checkSandboxSupport } from '@secure-registry/analyzer';
import type { ScanResult } from '@secure-registry/shared';
import { FakeUpstream } from '../../test-support/fake-upstream.js';
import { fixtureVersion } from '../../test-support/fixture-version.js';
import { GithubStandin } from '../../test-support/github-standin.js';
import { makeGraph } from '../../test-support/graph.js';
import { startTestServer } from '../../test-support/harness.js';
import { GitHubApi } from './api.js';
import { createGithubExecutor } from './executor.js';
import { Transfer } from './transfer.js';

const FIXTURES = ['exfil-https', 'reverse-shell', 'benign/banner-postinstall'];
const support = await checkSandboxSupport();

describe(
  'a scan with SR_EXECUTOR=github',
  { skip: !support.ok && support.missing.join(', '), timeout: 900_000 },
  () => {
    let upstream: FakeUpstream;
    let standin: GithubStandin;
    const nodes: { name: string; version: string; integrity: string }[] = [];

    async function scan(executor: 'local' | 'github'): Promise<ScanResult> {
      const transfer = new Transfer('http://127.0.0.1:1', 10 * 60_000);
      const server = await startTestServer({
        upstream: upstream.url,
        leaseMs: 60_000,
        sandbox: {
          timeoutMs: 40_000,
          graceMs: 1_500,
          ...(executor === 'github' && {
            executor: createGithubExecutor({
              api: new GitHubApi({ baseUrl: standin.baseUrl, token: 'ghp_pipeline' }),
              repository: 'acme/analysis',
              workflow: 'analyze-package.yml',
              transfer,
              maxJobs: 4,
              // The import and browser phases in batches, as SR_GITHUB_BATCH does by default.
              maxBatch: 16,
              runTimeoutMs: 10 * 60_000,
              pollMs: 200,
            }),
          }),
        },
      });
      transfer.publicUrl = server.url;
      try {
        const created = await server.json<{ id: string }>('POST', '/api/v1/scans', {
          graph: makeGraph(nodes),
        });
        return await server.waitForScan(created.body.id, 800_000);
      } finally {
        await server.dispose();
      }
    }

    before(async () => {
      upstream = await new FakeUpstream().start();
      standin = await new GithubStandin({
        token: 'ghp_pipeline',
        repository: 'acme/analysis',
        workflow: 'analyze-package.yml',
      }).start();
      for (const dir of FIXTURES) {
        const f = fixtureVersion(`malicious/${dir}`);
        const built = await upstream.add(f);
        nodes.push({ name: f.name, version: f.version, integrity: built.integrity });
      }
    });
    after(async () => {
      await standin?.close();
      await upstream?.close();
    });

    test('the same verdicts as the local sandbox, every phase dispatched as a workflow run (import and browser batched)', async () => {
      const remote = await scan('github');
      const local = await scan('local');
      const verdicts = (r: ScanResult) => Object.fromEntries(r.packages.map((p) => [p.name, p.state]));
      assert.deepEqual(verdicts(remote), verdicts(local));
      assert.ok(Object.values(verdicts(local)).includes('rejected'), JSON.stringify(verdicts(local)));
      assert.ok(Object.values(verdicts(local)).includes('approved'), JSON.stringify(verdicts(local)));
      assert.ok(standin.runs.length >= FIXTURES.length, `${standin.runs.length} runs`);
      assert.ok(
        standin.runs.every((r) => r.conclusion === 'success'),
        JSON.stringify(standin.runs.map((r) => r.conclusion)),
      );
    });
  },
);
