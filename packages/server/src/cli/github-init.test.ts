// `secure-registry-server github init` against the GitHub API stand-in: ready, missing repository,
// missing workflow, workflow without the inputs, token without Actions: write / Contents: read.
import { strict as assert } from 'node:assert';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { GithubStandin, type GithubStandinOptions } from '../test-support/github-standin.js';
import { runCli } from './run.js';

async function init(
  standin: GithubStandin,
  env: Record<string, string> = {},
  args: string[] = [],
): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runCli(
    ['github', 'init', ...args],
    {
      SR_GITHUB_API_URL: standin.baseUrl,
      SR_GITHUB_TOKEN: 'ghp_init',
      SR_GITHUB_REPOSITORY: 'acme/analysis',
      ...env,
    },
    { stdout: (t) => void (out += t), stderr: (t) => void (err += t), stopSignal: new Promise(() => {}) },
  );
  return { code, out, err };
}

describe('secure-registry-server github init', () => {
  const standins: GithubStandin[] = [];
  const start = async (options: Partial<GithubStandinOptions> = {}) => {
    const s = await new GithubStandin({
      token: 'ghp_init',
      repository: 'acme/analysis',
      workflow: 'analyze-package.yml',
      runWorkflow: () => Promise.reject(new Error('github init must start no run')),
      ...options,
    }).start();
    standins.push(s);
    return s;
  };
  let good: GithubStandin;
  before(async () => void (good = await start()));
  after(async () => Promise.all(standins.map((s) => s.close())));

  test('all good: exit 0, every check named, no run started', async () => {
    const { code, out } = await init(good);
    assert.equal(code, 0, out);
    assert.doesNotMatch(out, /missing/);
    assert.match(out, /^ok: workflow_dispatch inputs analysis_id, artifact_url, integrity, phase, limits$/m);
    assert.match(out, /^ok: dispatch permitted \(Actions: write\)$/m);
    assert.match(out, /^ready: /m);
    assert.equal(good.runs.length, 0);
  });

  test('missing repository, bad token, unset variables', async () => {
    const repo = await init(good, { SR_GITHUB_REPOSITORY: 'acme/nowhere' });
    assert.equal(repo.code, 4);
    assert.deepEqual(repo.out.split('\n').filter((l) => l.startsWith('missing')), [
      'missing: repository acme/nowhere: not found or not visible to the token; give the token access to it (GET /repos/acme/nowhere: 404 Not Found)',
    ]);
    const token = await init(good, { SR_GITHUB_TOKEN: 'ghp_wrong' });
    assert.equal(token.code, 4);
    assert.match(token.out, /^missing: token: GitHub refused it \(GET \/repos\/acme\/analysis: 401 Bad credentials\)$/m);
    const unset = await init(good, { SR_GITHUB_TOKEN: '' });
    assert.equal(unset.code, 4);
    assert.match(unset.out, /^missing: SR_GITHUB_TOKEN: not set/m);
  }); // prettier-ignore

  test('missing workflow, and a workflow without the inputs the executor sends', async () => {
    const wf = await init(good, { SR_GITHUB_WORKFLOW: 'other.yml' });
    assert.equal(wf.code, 4);
    assert.match(wf.out, /^missing: workflow \.github\/workflows\/other\.yml: not found in acme\/analysis; commit it to main/m);
    const old = await start({
      workflowText: 'on:\n  workflow_dispatch:\n    inputs:\n      analysis_id:\n        type: string\n      artifact_url:\n        type: string\njobs: {}\n',
    });
    const inputs = await init(old);
    assert.equal(inputs.code, 4);
    assert.match(inputs.out, /^missing: workflow \.github\/workflows\/analyze-package\.yml: workflow_dispatch lacks the inputs integrity, phase, limits the executor sends$/m);
    const push = await start({ workflowText: 'on: [push]\njobs: {}\n' });
    assert.match((await init(push)).out, /^missing: workflow .*: no workflow_dispatch trigger$/m);
  }); // prettier-ignore

  test('a token lacking permissions: what GitHub accepts is named', async () => {
    const readOnly = await init(await start({ permissions: { actions: 'read', contents: 'none' } }));
    assert.equal(readOnly.code, 4);
    assert.deepEqual(readOnly.out.split('\n').filter((l) => l.startsWith('missing')), [
      'missing: token: needs Contents: read to check the workflow file (GET /repos/acme/analysis/contents/.github/workflows/analyze-package.yml: 403 Resource not accessible by personal access token (GitHub accepts: contents=read))',
      'missing: token: needs Actions: read and write to dispatch runs (POST /repos/acme/analysis/actions/workflows/analyze-package.yml/dispatches: 403 Resource not accessible by personal access token (GitHub accepts: actions=write))',
    ]);
    const none = await init(await start({ permissions: { actions: 'none' } }));
    assert.match(none.out, /^missing: token: needs Actions: read to see workflows .*actions=read/m);
    assert.match(none.out, /^missing: token: needs Actions: read to follow runs .*actions=read/m);
  }); // prettier-ignore

  test('--write-workflow copies the workflow; an unreachable API exits 3', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sr-init-'));
    try {
      const { code, out } = await init(good, {}, ['--write-workflow', dir]);
      assert.equal(code, 0);
      assert.match(out, /^wrote .*\.github\/workflows\/analyze-package\.yml/m);
      const copied = await readFile(join(dir, '.github/workflows/analyze-package.yml'), 'utf8');
      assert.match(copied, /workflow_dispatch:/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    const down = await init(good, { SR_GITHUB_API_URL: 'http://127.0.0.1:1' });
    assert.equal(down.code, 3, down.err);
    assert.match(down.err, /GitHub API/);
  });
});
