// Run variants: the same phase under another environment (a CI runner instead of a developer's laptop)
// or another resolver (strict: made-up names get NXDOMAIN). Malware that checks where it runs behaves
// differently between them; the runs are judged together, and a difference is evidence. Pure.
import type { TraceEvent } from '@secure-registry/shared';
import type { Persona } from './layout.js';

export type EnvironmentVariant = 'developer' | 'ci';

/** What GitHub Actions sets for a job on an ubuntu runner (plus the generic `CI`), in this persona's project. */
export function ciEnv(persona: Persona): Record<string, string> {
  const repository = `${persona.githubUser}/${persona.projectName}`;
  return {
    CI: 'true',
    GITHUB_ACTIONS: 'true',
    GITHUB_WORKFLOW: 'CI',
    GITHUB_RUN_ID: '12847730151',
    GITHUB_RUN_NUMBER: '418',
    GITHUB_RUN_ATTEMPT: '1',
    GITHUB_JOB: 'build',
    GITHUB_ACTION: '__run_2',
    GITHUB_ACTOR: persona.githubUser,
    GITHUB_REPOSITORY: repository,
    GITHUB_REPOSITORY_OWNER: persona.githubUser,
    GITHUB_EVENT_NAME: 'push',
    GITHUB_REF: 'refs/heads/main',
    GITHUB_REF_NAME: 'main',
    GITHUB_SHA: '9f3c1e0b7a52d4c8e61f0a9b3d2c7e4f5a6b8c1d',
    GITHUB_WORKSPACE: persona.projectDir,
    GITHUB_SERVER_URL: 'https://github.com',
    GITHUB_API_URL: 'https://api.github.com',
    GITHUB_GRAPHQL_URL: 'https://api.github.com/graphql',
    RUNNER_OS: 'Linux',
    RUNNER_ARCH: 'X64',
    RUNNER_NAME: 'GitHub Actions 27',
    RUNNER_ENVIRONMENT: 'github-hosted',
    RUNNER_TEMP: `${persona.home}/work/_temp`,
    RUNNER_TOOL_CACHE: '/opt/hostedtoolcache',
    ImageOS: 'ubuntu24',
  };
}

/** The names a run asked DNS for (lower case, no trailing dot, first asked first). */
export function dnsNamesAsked(events: readonly TraceEvent[]): string[] {
  const names = new Set<string>();
  for (const e of events) if (e.kind === 'dns') names.add(e.name.toLowerCase().replace(/\.$/, ''));
  return [...names];
}
