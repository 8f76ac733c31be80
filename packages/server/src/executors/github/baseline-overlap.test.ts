// The control baseline with an executor that does not share this machine: the packages' runs are
// dispatched while the control package's runs are still in flight (not 3 × latency later), and every
// report — single runs and batches — is reduced only once the baseline is known, so the runtime's noise
// the control runs saw is removed from them as it is locally.
import { strict as assert } from 'node:assert';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import Fastify from 'fastify';
import type { FastifyInstance } from 'fastify';
import { CONTROL_PACKAGE } from '@secure-registry/analyzer';
import type { PhaseRun } from '@secure-registry/analyzer';
import type { BehaviourReport } from '@secure-registry/shared';
import { createDynamicStage } from '../../pipeline/dynamic-stage.js';
import { buildTarball } from '../../test-support/fake-upstream.js';
import { GithubStandin, quietRun, recordedRunWorkflow } from '../../test-support/github-standin.js';
import type { WorkflowOutcome } from '../../test-support/github-standin.js';
import { GitHubApi } from './api.js';
import type { BatchBundle, Bundle } from './bundle.js';
import { createGithubExecutor } from './executor.js';
import { registerExecutorRoutes } from './routes.js';
import { Transfer } from './transfer.js';

const TOKEN = 'ghp_standin_token';
const NOISE = '/home/runner/.config/sr-runtime-noise/state';

/** What every runner reports: one write to a dotfile, which the control runs see too (runtime noise). */
const noisyRun = (): PhaseRun => ({
  ...quietRun(),
  events: [{ seq: 1, ts: 1, pid: 10, kind: 'file', op: 'write', path: NOISE }],
});

let app: FastifyInstance;
let transfer: Transfer;
const standins: GithubStandin[] = [];

before(async () => {
  app = Fastify();
  transfer = new Transfer('http://127.0.0.1:1', 10 * 60_000);
  registerExecutorRoutes(app, transfer);
  await app.listen({ port: 0, host: '127.0.0.1' });
  transfer.publicUrl = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
});

after(async () => {
  await Promise.all(standins.map((s) => s.close()));
  await app.close();
});

/**
 * A stand-in whose control-package runs end only once a package's run has been dispatched (or after
 * `patienceMs`, recorded as not overlapped); `controlFails` makes them fail (no baseline learned).
 */
async function scanTwo(controlFails: boolean) {
  const seen = { overlapped: false, batches: 0 };
  let packageDispatched!: () => void;
  const dispatched = new Promise<void>((resolve) => (packageDispatched = resolve));
  const post = recordedRunWorkflow(noisyRun());
  const standin = await new GithubStandin({
    token: TOKEN,
    repository: 'acme/analysis',
    workflow: 'analyze-package.yml',
    runWorkflow: async (inputs): Promise<WorkflowOutcome> => {
      const artifact = (await (await fetch(inputs.artifact_url!)).json()) as Bundle | BatchBundle;
      const control = artifact.kind !== 'batch' && artifact.options.packageName === CONTROL_PACKAGE.name;
      if (!control) {
        if (artifact.kind === 'batch') seen.batches++;
        packageDispatched();
        return post(inputs);
      }
      // Generous: a stage that waited for the baseline would never dispatch; one that does not, at once.
      const patienceMs = 60_000;
      seen.overlapped = await Promise.race([
        dispatched.then(() => true),
        new Promise<boolean>((resolve) => setTimeout(() => resolve(false), patienceMs)),
      ]);
      return controlFails ? 'failure' : post(inputs);
    },
  }).start();
  standins.push(standin);
  const stage = createDynamicStage({
    executor: createGithubExecutor({
      api: new GitHubApi({ baseUrl: standin.baseUrl, token: TOKEN, backoffMs: 10 }),
      repository: 'acme/analysis',
      workflow: 'analyze-package.yml',
      transfer,
      maxJobs: 8,
      maxBatch: 8,
      runTimeoutMs: 5 * 60_000,
      pollMs: 50,
    }),
    checkSupport: async () => ({ ok: true, missing: [], details: [] }),
  });
  const pkg = async (name: string) =>
    stage.run({
      name,
      version: '1.0.0',
      tarball: (
        await buildTarball({
          'package.json': JSON.stringify({
            name,
            version: '1.0.0',
            main: 'index.js',
            scripts: { postinstall: 'node index.js' },
          }),
          'index.js': 'module.exports = 1;\n',
        })
      ).bytes,
      signal: new AbortController().signal,
    });
  const reports = await Promise.all([pkg('overlap-a'), pkg('overlap-b')]);
  return { seen, reports };
}

const noiseIn = (report: BehaviourReport | undefined): boolean =>
  (report?.files ?? []).some((f) => f.path.includes('sr-runtime-noise'));

describe('the control baseline with a remote executor', () => {
  test('package runs go out while the control runs are in flight; their reports lose the baseline noise', async () => {
    const { seen, reports } = await scanTwo(false);
    assert.equal(seen.overlapped, true, 'no package run was dispatched before the control runs ended');
    for (const r of reports) {
      assert.equal(r.install?.report.status, 'completed');
      assert.equal(r.import?.report.status, 'completed');
      assert.equal(noiseIn(r.install?.report), false, JSON.stringify(r.install?.report.files));
      assert.equal(noiseIn(r.import?.report), false, JSON.stringify(r.import?.report.files));
      assert.deepEqual(
        r.sandbox?.baseline?.map((b) => b.status),
        ['completed', 'completed', 'completed'],
      );
    }
  });

  test('without a baseline (the control runs failed) the same noise stays in every report', async () => {
    const { reports } = await scanTwo(true);
    for (const r of reports) {
      assert.equal(noiseIn(r.install?.report), true, JSON.stringify(r.install?.report.files));
      assert.equal(noiseIn(r.import?.report), true, JSON.stringify(r.import?.report.files));
      assert.ok(r.sandbox?.baseline?.every((b) => b.status === 'error'));
    }
  });
});
