// The github executor against the GitHub REST stand-in (packages/server/src/test-support/github-standin.ts),
// for the benches that start the server in-process: the stand-in on 127.0.0.1 and the server's environment
// pointing at it (SR_EXECUTOR=github, SR_GITHUB_*, SR_PUBLIC_URL with a port chosen before the server starts,
// since the runners fetch artifacts from it).
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { GithubStandin } from '../../packages/server/dist/test-support/github-standin.js';
import type { GithubStandinOptions } from '../../packages/server/dist/test-support/github-standin.js';

const TOKEN = 'ghp_bench_standin';
export const STANDIN_REPOSITORY = 'bench/analysis';
export const STANDIN_WORKFLOW = 'analyze-package.yml';

/** A port free right now on 127.0.0.1 (for a server whose URL must be known before it listens). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** The stand-in, started; by default a dispatched run executes the real runner program in the sandbox. */
export function startStandin(runWorkflow?: GithubStandinOptions['runWorkflow']): Promise<GithubStandin> {
  return new GithubStandin({
    token: TOKEN,
    repository: STANDIN_REPOSITORY,
    workflow: STANDIN_WORKFLOW,
    ...(runWorkflow ? { runWorkflow } : {}),
  }).start();
}

/** The server's environment for SR_EXECUTOR=github against `standin`, listening on `port`. */
export function githubExecutorEnv(
  standin: GithubStandin,
  port: number,
  maxJobs?: number,
): Record<string, string> {
  return {
    SR_SANDBOX: 'on',
    SR_EXECUTOR: 'github',
    SR_GITHUB_REPOSITORY: STANDIN_REPOSITORY,
    SR_GITHUB_TOKEN: TOKEN,
    SR_GITHUB_WORKFLOW: STANDIN_WORKFLOW,
    SR_GITHUB_API_URL: standin.baseUrl,
    ...(maxJobs !== undefined ? { SR_GITHUB_MAX_JOBS: String(maxJobs) } : {}),
    SR_PUBLIC_URL: `http://127.0.0.1:${port}`,
  };
}
