// Is the analysis repository ready for the github executor? Asks the GitHub REST API what the
// executor will need, without starting a run, and returns one line per missing piece:
//   - the repository exists and the token sees it (GET /repos/{o}/{r});
//   - the workflow exists and is active (GET …/actions/workflows/{file}: needs actions: read);
//   - the workflow file on the default branch has `workflow_dispatch` with the inputs the executor
//     sends (GET …/contents/.github/workflows/{file}?ref=…: needs contents: read);
//   - the token may dispatch (actions: write): a dispatch without `ref` is answered 422 "ref wasn't
//     supplied" when it may, 403 when it may not; GitHub checks the permission before the body, and an
//     invalid dispatch starts no run;
//   - the token may read runs (GET …/actions/runs?per_page=1, actions: read).
// A 403 names the permission GitHub wanted from its `x-accepted-github-permissions` header.
import { GitHubApiError, type GitHubApi } from './api.js';

/** What the executor sends with every dispatch (executor.ts). */
export const DISPATCH_INPUTS = ['analysis_id', 'artifact_url', 'integrity', 'phase', 'limits'] as const;
/** The ref the executor dispatches on. */
export const DISPATCH_REF = 'main';

export interface ReadinessInput {
  api: GitHubApi;
  repository: string;
  workflow: string;
}

export interface Readiness {
  ready: boolean;
  /** One line per missing piece, in the order they were checked. */
  missing: string[];
  /** What was found (for a ready setup: what it checked). */
  found: string[];
}

interface Probe<T> {
  ok: boolean;
  status: number;
  body?: T;
  /** GitHub's message, with the permission it accepts when it names one. */
  why: string;
}

async function probe<T>(api: GitHubApi, method: string, path: string, body?: unknown): Promise<Probe<T>> {
  try {
    const response = await api.request<T>(method, path, body);
    return { ok: true, status: response.status, body: response.body, why: '' };
  } catch (error) {
    // Unreachable API, rate limits past the wait: not an answer about the setup.
    if (!(error instanceof GitHubApiError) || error.status === 0 || error.status >= 500) throw error;
    const accepted = error.accepted ? ` (GitHub accepts: ${error.accepted})` : '';
    return { ok: false, status: error.status, why: `${error.message}${accepted}` };
  }
}

/** The input names under `on: workflow_dispatch: inputs:` of a workflow file; undefined without a dispatch trigger. */
export function dispatchInputsOf(yaml: string): string[] | undefined {
  const lines = yaml.split('\n').map((l) => l.replace(/\s+#.*$/, '').replace(/\r$/, ''));
  const indent = (l: string) => l.length - l.trimStart().length;
  const start = lines.findIndex((l) => /^\s*workflow_dispatch:\s*(\{\}|null|~)?\s*$/.test(l));
  if (start < 0) return /(^|[\s[,])workflow_dispatch([\s\],]|$)/m.test(yaml) ? [] : undefined;
  const base = indent(lines[start]!);
  const inputs: string[] = [];
  let inputsIndent: number | undefined;
  let keyIndent: number | undefined;
  for (const line of lines.slice(start + 1)) {
    if (line.trim() === '') continue;
    const at = indent(line);
    if (at <= base) break;
    if (inputsIndent === undefined) {
      if (/^\s*inputs:\s*$/.test(line)) inputsIndent = at;
      continue;
    }
    if (at <= inputsIndent) break;
    keyIndent ??= at;
    const key = /^\s*([\w-]+):/.exec(line)?.[1];
    if (at === keyIndent && key) inputs.push(key);
  }
  return inputs;
}

export async function checkGithubReadiness(input: ReadinessInput): Promise<Readiness> {
  const { api, repository, workflow } = input;
  const base = `/repos/${repository}`;
  const missing: string[] = [];
  const found: string[] = [];

  const repo = await probe<{ default_branch?: string; full_name?: string }>(api, 'GET', base);
  if (!repo.ok) {
    if (repo.status === 401) missing.push(`token: GitHub refused it (${repo.why})`);
    else
      missing.push(
        `repository ${repository}: not found or not visible to the token; give the token access to it (${repo.why})`,
      );
    return { ready: false, missing, found };
  }
  const branch = repo.body?.default_branch ?? DISPATCH_REF;
  found.push(`repository ${repo.body?.full_name ?? repository} (default branch ${branch})`);
  if (branch !== DISPATCH_REF)
    missing.push(
      `repository ${repository}: the default branch is ${branch}, the executor dispatches on ${DISPATCH_REF}; keep the workflow on a ${DISPATCH_REF} branch`,
    );

  const file = `.github/workflows/${workflow}`;
  const wf = await probe<{ state?: string; path?: string }>(
    api,
    'GET',
    `${base}/actions/workflows/${workflow}`,
  );
  if (wf.ok) {
    found.push(`workflow ${wf.body?.path ?? file} (${wf.body?.state ?? 'unknown state'})`);
    if (wf.body?.state !== undefined && wf.body.state !== 'active')
      missing.push(
        `workflow ${file}: it is ${wf.body.state}; enable it (Actions tab → the workflow → Enable)`,
      );
  } else if (wf.status === 403) missing.push(`token: needs Actions: read to see workflows (${wf.why})`);
  else
    missing.push(
      `workflow ${file}: not found in ${repository}; commit it to ${branch} (\`secure-registry-server github init --write-workflow DIR\` copies it)`,
    );

  const contents = await probe<{ content?: string; encoding?: string }>(
    api,
    'GET',
    `${base}/contents/${file}?ref=${encodeURIComponent(branch)}`,
  );
  if (contents.ok && contents.body?.encoding === 'base64' && typeof contents.body.content === 'string') {
    const yaml = Buffer.from(contents.body.content, 'base64').toString('utf8');
    const inputs = dispatchInputsOf(yaml);
    if (inputs === undefined) missing.push(`workflow ${file}: no workflow_dispatch trigger`);
    else {
      const absent = DISPATCH_INPUTS.filter((name) => !inputs.includes(name));
      if (absent.length > 0)
        missing.push(
          `workflow ${file}: workflow_dispatch lacks the input${absent.length > 1 ? 's' : ''} ${absent.join(', ')} the executor sends`,
        );
      else found.push(`workflow_dispatch inputs ${DISPATCH_INPUTS.join(', ')}`);
    }
  } else if (contents.status === 403)
    missing.push(`token: needs Contents: read to check the workflow file (${contents.why})`);
  else if (wf.ok || wf.status === 403)
    missing.push(`workflow ${file}: not on the default branch ${branch}; commit it there`);

  // No `ref`: a token that may dispatch gets 422 and no run starts.
  const dispatch = await probe(api, 'POST', `${base}/actions/workflows/${workflow}/dispatches`, {});
  if (dispatch.status === 403)
    missing.push(`token: needs Actions: read and write to dispatch runs (${dispatch.why})`);
  else if (dispatch.ok) throw new Error('a dispatch without ref was accepted: refusing to probe further');
  else if (dispatch.status === 422) found.push('dispatch permitted (Actions: write)');

  const runs = await probe(api, 'GET', `${base}/actions/runs?per_page=1`);
  if (runs.status === 403) missing.push(`token: needs Actions: read to follow runs (${runs.why})`);
  else if (runs.ok) found.push('runs readable (Actions: read)');

  return { ready: missing.length === 0, missing, found };
}
