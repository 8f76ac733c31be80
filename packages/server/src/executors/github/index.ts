// The github executor from the server's configuration (SR_EXECUTOR=github and SR_GITHUB_*).
import { GitHubApi } from './api.js';
import { createGithubExecutor } from './executor.js';
import type { GithubExecutor } from './executor.js';
import { Transfer } from './transfer.js';

export interface GithubConfig {
  repository: string | undefined;
  token: string | undefined;
  workflow: string | undefined;
  maxJobs: number | undefined;
  /** Packages per import/browser job (SR_GITHUB_BATCH). */
  batch: number | undefined;
  apiUrl: string | undefined;
  publicUrl: string | undefined;
  /** A phase's own limit; the run may take this plus queueing and runner start-up. */
  phaseTimeoutMs: number;
}

/** Throws `fail(variable, message)` for what is missing. */
export function githubExecutorFromConfig(
  config: GithubConfig,
  fail: (variable: string, message: string) => Error,
): GithubExecutor {
  if (!config.repository) throw fail('SR_GITHUB_REPOSITORY', 'required for SR_EXECUTOR=github');
  if (!config.token) throw fail('SR_GITHUB_TOKEN', 'required for SR_EXECUTOR=github');
  if (!config.publicUrl)
    throw fail('SR_PUBLIC_URL', 'required for SR_EXECUTOR=github (runners fetch the artifact from it)');
  // Queueing, runner start-up and the job's setup steps come on top of the phase itself.
  const runTimeoutMs = config.phaseTimeoutMs + 15 * 60_000;
  return createGithubExecutor({
    api: new GitHubApi({ baseUrl: config.apiUrl ?? 'https://api.github.com', token: config.token }),
    repository: config.repository,
    workflow: config.workflow ?? 'analyze-package.yml',
    transfer: new Transfer(config.publicUrl, runTimeoutMs),
    maxJobs: config.maxJobs ?? 20,
    maxBatch: config.batch ?? 16,
    runTimeoutMs,
  });
}
