import { copyFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { RemoteError, UserError } from '@secure-registry/shared';
import { readServerEnv, type Env } from '../config/server-config.js';
import { GitHubApi, GitHubApiError } from '../executors/github/api.js';
import { checkGithubReadiness } from '../executors/github/readiness.js';

/** Exit code of `github init` when the analysis repository is not ready (each missing piece printed). */
export const GITHUB_NOT_READY = 4;

export const GITHUB_USAGE = `Usage: secure-registry-server github init [--write-workflow DIR]

Checks the analysis repository of the github executor against the GitHub API (SR_GITHUB_API_URL,
SR_GITHUB_TOKEN, SR_GITHUB_REPOSITORY, SR_GITHUB_WORKFLOW): the repository exists and the token sees
it, the workflow file is on the default branch with workflow_dispatch and the inputs the executor
sends, and the token may dispatch (Actions: write) and read runs (Actions: read). Prints one line per
missing piece. Starts no run.

  --write-workflow DIR  first copy analyze-package.yml to DIR/.github/workflows/ (DIR: a clone of
                        the analysis repository; commit and push it yourself)

Exit codes: 0 ready, 4 something is missing, 2 usage or configuration error, 3 GitHub unreachable.
`;

const WORKFLOW_SOURCE = fileURLToPath(
  new URL('../../../../.github/workflows/analyze-package.yml', import.meta.url),
);

function usageError(message: string): UserError {
  return new UserError('ERR_SR_USAGE', message, { hint: 'run `secure-registry-server github --help`' });
}

/** `secure-registry-server github init …`. */
export async function githubCommand(
  args: readonly string[],
  env: Env,
  io: { stdout: (text: string) => void; stderr: (text: string) => void },
): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === '--help' || sub === '-h' || sub === 'help') {
    io.stdout(GITHUB_USAGE);
    return 0;
  }
  if (sub !== 'init')
    throw usageError(
      sub === undefined ? 'github needs a subcommand: init' : `unknown github subcommand ${sub}`,
    );
  let values: { 'write-workflow'?: string | undefined };
  try {
    ({ values } = parseArgs({
      args: [...rest],
      options: { 'write-workflow': { type: 'string' } },
      strict: true,
    }));
  } catch (error) {
    throw usageError(error instanceof Error ? error.message : String(error));
  }
  const { values: config } = readServerEnv(env);
  const workflow = config.githubWorkflow ?? 'analyze-package.yml';
  if (values['write-workflow'] !== undefined) {
    const dir = join(values['write-workflow'], '.github', 'workflows');
    await mkdir(dir, { recursive: true });
    await copyFile(WORKFLOW_SOURCE, join(dir, workflow));
    io.stdout(`wrote ${join(dir, workflow)}: commit it to the analysis repository's main branch\n`);
  }
  const missing = [
    ...(config.githubRepository
      ? []
      : ['SR_GITHUB_REPOSITORY: not set (owner/name of the analysis repository)']),
    ...(config.githubToken
      ? []
      : ['SR_GITHUB_TOKEN: not set (a fine-grained token for the analysis repository)']),
  ];
  if (missing.length > 0) {
    for (const line of missing) io.stdout(`missing: ${line}\n`);
    return GITHUB_NOT_READY;
  }
  const api = new GitHubApi({
    baseUrl: config.githubApiUrl ?? 'https://api.github.com',
    token: config.githubToken!,
    attempts: 2,
    maxRateLimitWaitMs: 60_000,
  });
  const result = await checkGithubReadiness({ api, repository: config.githubRepository!, workflow }).catch(
    (error: unknown) => {
      if (error instanceof GitHubApiError)
        throw new RemoteError('ERR_SR_GITHUB', `GitHub API: ${error.message}`, { cause: error });
      throw error;
    },
  );
  for (const line of result.found) io.stdout(`ok: ${line}\n`);
  for (const line of result.missing) io.stdout(`missing: ${line}\n`);
  if (result.ready) io.stdout(`ready: SR_EXECUTOR=github can dispatch to ${config.githubRepository}\n`);
  return result.ready ? 0 : GITHUB_NOT_READY;
}
