/**
 * A stand-in for the GitHub REST API on 127.0.0.1, for the github executor's tests: the endpoints the
 * executor and `github init` call (repository, workflow, workflow dispatch, workflow runs), the bearer
 * token check, GitHub's status codes and error bodies (`{"message", "documentation_url"}`) and its
 * rate-limit answers (403/429 with `retry-after`). A dispatched workflow "runs" by calling `runWorkflow`
 * with the dispatch's inputs — by default the workflow's own runner program (../executors/github/
 * runner-main.ts) as a subprocess, the strace sandbox standing in for Tracee — and the run concludes
 * `success` or `failure` by what that returned.
 */
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import type { PhaseRun } from '@secure-registry/analyzer';
import { integrityOf } from '../executors/github/bundle.js';
import type { BatchBundle, Bundle } from '../executors/github/bundle.js';
import { resultUrlFor } from '../executors/github/runner.js';
import type { ResultDocument, WireBatchRun } from '../executors/github/runner.js';
import { RESULT_KEY_HEADER, SIGNATURE_HEADER, signBody } from '../executors/github/transfer.js';

const DOCS = 'https://docs.github.com/rest';

export interface StandinRun {
  id: number;
  name: string;
  status: 'queued' | 'in_progress' | 'completed';
  conclusion: string | null;
  html_url: string;
  inputs: Record<string, string>;
}

export type WorkflowOutcome = 'success' | 'failure' | 'cancelled' | 'timed_out';

export interface GithubStandinOptions {
  token: string;
  repository: string;
  workflow: string;
  /** Runs a dispatched workflow; default: the runner program as a subprocess. */
  runWorkflow?: (inputs: Record<string, string>) => Promise<WorkflowOutcome>;
  /** Answer the dispatch with 204 and no run details, as GitHub did before 2026-02. */
  noRunDetails?: boolean;
  /** The fine-grained token's permissions on the repository (default: actions write, contents read). */
  permissions?: { actions?: 'none' | 'read' | 'write'; contents?: 'none' | 'read' };
  /** The workflow file on the default branch (contents API); default: this repository's workflow. */
  workflowText?: string;
}

const WORKFLOW_FILE = fileURLToPath(
  new URL('../../../../.github/workflows/analyze-package.yml', import.meta.url),
);

/** The permission GitHub wants for an API call of the stand-in, as `x-accepted-github-permissions` says. */
export function permissionFor(
  method: string,
  rest: string,
): { name: 'actions' | 'contents'; level: 'read' | 'write' } | undefined {
  if (rest.startsWith('/contents/')) return { name: 'contents', level: 'read' };
  if (!rest.startsWith('/actions/')) return undefined;
  return { name: 'actions', level: method === 'GET' ? 'read' : 'write' };
}

const LEVELS = { none: 0, read: 1, write: 2 } as const;

/** A 403 as GitHub answers a fine-grained token without the permission, or undefined when granted. */
export function permissionDenied(
  options: GithubStandinOptions,
  method: string,
  rest: string,
): { body: unknown; headers: Record<string, string> } | undefined {
  const wanted = permissionFor(method, rest);
  if (!wanted) return undefined;
  const granted = options.permissions?.[wanted.name] ?? (wanted.name === 'actions' ? 'write' : 'read');
  if (LEVELS[granted] >= LEVELS[wanted.level]) return undefined;
  return {
    body: {
      message: 'Resource not accessible by personal access token',
      documentation_url: DOCS,
      status: '403',
    },
    headers: { 'x-accepted-github-permissions': `${wanted.name}=${wanted.level}` },
  };
}

/** GET /repos/{o}/{r}/contents/{path}: the workflow file as GitHub's contents API returns a file. */
export function workflowContents(options: GithubStandinOptions, path: string): unknown {
  if (path !== `.github/workflows/${options.workflow}`) return undefined;
  const text = options.workflowText ?? readFileSync(WORKFLOW_FILE, 'utf8');
  const content = Buffer.from(text).toString('base64').replace(/.{60}/g, '$&\n');
  return {
    type: 'file',
    encoding: 'base64',
    size: Buffer.byteLength(text),
    name: options.workflow,
    path,
    content,
    sha: 'd7f1c2a9e0b3c4d5e6f708192a3b4c5d6e7f8091',
  };
}

export const RUNNER_MAIN = fileURLToPath(new URL('../executors/github/runner-main.js', import.meta.url));

/** The workflow's runner step, run locally: `node runner-main.js` with the dispatch's inputs. */
export function runRunnerProgram(
  inputs: Record<string, string>,
  extraArgs: readonly string[] = [],
): Promise<WorkflowOutcome> {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      [
        RUNNER_MAIN,
        '--analysis-id',
        inputs.analysis_id ?? '',
        '--artifact-url',
        inputs.artifact_url ?? '',
        '--integrity',
        inputs.integrity ?? '',
        ...extraArgs,
      ],
      { stdio: ['ignore', 'ignore', 'inherit'] },
    );
    child.on('error', () => resolve('failure'));
    child.on('close', (code) => resolve(code === 0 ? 'success' : 'failure'));
  });
}

/** The workflow's runner step with Tracee's output replayed from a recorded events file. */
export function replayTraceeRecording(
  eventsFile: string,
): (inputs: Record<string, string>) => Promise<WorkflowOutcome> {
  return (inputs) => runRunnerProgram(inputs, ['--trace', 'tracee', '--tracee-events', eventsFile]);
}

export class GithubStandin {
  readonly runs: StandinRun[] = [];
  /** Every request as "METHOD /path". */
  readonly requests: string[] = [];
  #server: Server | undefined;
  #nextId = 1000;
  #rateLimits: { status: 403 | 429; retryAfter?: number; secondary: boolean }[] = [];
  #serverErrors = 0;
  baseUrl = '';

  constructor(readonly options: GithubStandinOptions) {}

  /** The next `count` API calls answer with a rate limit. */
  rateLimitNext(count: number, limit: { status: 403 | 429; retryAfter?: number; secondary?: boolean }): void {
    for (let i = 0; i < count; i++) this.#rateLimits.push({ secondary: false, ...limit });
  }

  /** The next `count` API calls answer 502. */
  failNext(count: number): void {
    this.#serverErrors += count;
  }

  async start(): Promise<this> {
    this.#server = createServer((req, res) => void this.#handle(req, res));
    await new Promise<void>((resolve) => this.#server!.listen(0, '127.0.0.1', resolve));
    this.baseUrl = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
    return this;
  }

  async close(): Promise<void> {
    this.#server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.#server ? this.#server.close(() => resolve()) : resolve()));
  }

  #send(res: ServerResponse, status: number, body?: unknown, headers: Record<string, string> = {}): void {
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
    res.end(body === undefined ? '' : JSON.stringify(body));
  }

  #error(res: ServerResponse, status: number, message: string, headers: Record<string, string> = {}): void {
    this.#send(res, status, { message, documentation_url: DOCS }, headers);
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const url = new URL(req.url ?? '/', this.baseUrl);
    this.requests.push(`${req.method} ${url.pathname}`);
    if (req.headers.authorization !== `Bearer ${this.options.token}`)
      return this.#error(res, 401, 'Bad credentials');
    const limit = this.#rateLimits.shift();
    if (limit) {
      const headers: Record<string, string> = { 'x-ratelimit-remaining': limit.secondary ? '4000' : '0' };
      if (limit.retryAfter !== undefined) headers['retry-after'] = String(limit.retryAfter);
      if (!limit.secondary) headers['x-ratelimit-reset'] = String(Math.ceil(Date.now() / 1000) + 1);
      return this.#error(
        res,
        limit.status,
        limit.secondary ? 'You have exceeded a secondary rate limit.' : 'API rate limit exceeded.',
        headers,
      );
    }
    if (this.#serverErrors > 0) {
      this.#serverErrors--;
      return this.#error(res, 502, 'Server Error');
    }
    const repoBase = `/repos/${this.options.repository}`;
    const path = url.pathname;
    if (!path.startsWith(`${repoBase}/`) && path !== repoBase) return this.#error(res, 404, 'Not Found');
    const rest = path.slice(repoBase.length);
    const denied = permissionDenied(this.options, req.method ?? 'GET', rest);
    if (denied) return this.#send(res, 403, denied.body, denied.headers);
    if (rest.startsWith('/contents/') && req.method === 'GET') {
      const file = workflowContents(this.options, decodeURIComponent(rest.slice('/contents/'.length)));
      return file ? this.#send(res, 200, file) : this.#error(res, 404, 'Not Found');
    }
    if (rest === '/actions/runs' && req.method === 'GET')
      return this.#send(res, 200, {
        total_count: this.runs.length,
        workflow_runs: this.runs.slice(-1).map(publicRun),
      });
    if (rest === '' && req.method === 'GET')
      return this.#send(res, 200, {
        default_branch: 'main',
        full_name: this.options.repository,
        private: true,
        permissions: { admin: false, push: true, pull: true },
      });
    const workflow = /^\/actions\/workflows\/([^/]+)(\/.*)?$/.exec(rest);
    if (workflow) {
      if (decodeURIComponent(workflow[1]!) !== this.options.workflow)
        return this.#error(res, 404, 'Not Found');
      const tail = workflow[2] ?? '';
      if (tail === '' && req.method === 'GET')
        return this.#send(res, 200, {
          id: 1,
          name: 'analyze-package',
          path: `.github/workflows/${this.options.workflow}`,
          state: 'active',
        });
      if (tail === '/dispatches' && req.method === 'POST') return this.#dispatch(res, Buffer.concat(chunks));
      if (tail === '/runs' && req.method === 'GET')
        return this.#send(res, 200, {
          total_count: this.runs.length,
          workflow_runs: [...this.runs].reverse().map(publicRun),
        });
    }
    const run = /^\/actions\/runs\/(\d+)$/.exec(rest);
    if (run && req.method === 'GET') {
      const found = this.runs.find((r) => r.id === Number(run[1]));
      return found ? this.#send(res, 200, publicRun(found)) : this.#error(res, 404, 'Not Found');
    }
    return this.#error(res, 404, 'Not Found');
  }

  #dispatch(res: ServerResponse, body: Buffer): void {
    let parsed: { ref?: unknown; inputs?: Record<string, unknown>; return_run_details?: unknown };
    try {
      parsed = JSON.parse(body.toString('utf8')) as typeof parsed;
    } catch {
      return this.#error(res, 400, 'Problems parsing JSON');
    }
    if (typeof parsed.ref !== 'string')
      return this.#error(res, 422, 'Invalid request.\n\n"ref" wasn\'t supplied.');
    const inputs = parsed.inputs ?? {};
    for (const required of ['analysis_id', 'artifact_url', 'integrity', 'phase'])
      if (typeof inputs[required] !== 'string')
        return this.#error(res, 422, `Required input '${required}' not provided`);
    if (Object.keys(inputs).length > 25)
      return this.#error(res, 422, 'you may only define up to 25 `inputs`');
    const id = this.#nextId++;
    const run: StandinRun = {
      id,
      name: `analyze ${String(inputs.analysis_id)}`,
      status: 'queued',
      conclusion: null,
      html_url: `https://github.com/${this.options.repository}/actions/runs/${id}`,
      inputs: inputs as Record<string, string>,
    };
    this.runs.push(run);
    const runWorkflow = this.options.runWorkflow ?? runRunnerProgram;
    setImmediate(() => {
      run.status = 'in_progress';
      runWorkflow(run.inputs).then(
        (conclusion) => Object.assign(run, { status: 'completed', conclusion }),
        () => Object.assign(run, { status: 'completed', conclusion: 'failure' }),
      );
    });
    if (this.options.noRunDetails || parsed.return_run_details !== true) return this.#send(res, 204);
    this.#send(res, 200, {
      workflow_run_id: id,
      run_url: `${this.baseUrl}${`/repos/${this.options.repository}`}/actions/runs/${id}`,
      html_url: run.html_url,
    });
  }
}

function publicRun(run: StandinRun): Omit<StandinRun, 'inputs'> & { event: string } {
  return {
    id: run.id,
    name: run.name,
    status: run.status,
    conclusion: run.conclusion,
    html_url: run.html_url,
    event: 'workflow_dispatch',
  };
}

// Fan-out benches (bench/src/github-fanout.ts): workflows to pass as `runWorkflow`, so hundreds of runs
// are cheap while the executor's side — dispatch, artifact download, signed result, run polling — stays
// real. The default (the runner program in the real sandbox) is unchanged.

/**
 * A runner that does not run the sandbox: it downloads the artifact as the runner program does (signed
 * URL, integrity checked, result key from the download) and posts `run` as its signed result — for a
 * batch artifact, `run` for every package in it (`recordedBatch`).
 */
export function recordedRunWorkflow(
  run: PhaseRun,
): (inputs: Record<string, string>) => Promise<WorkflowOutcome> {
  return async (inputs) => {
    const artifactUrl = inputs.artifact_url ?? '';
    const analysisId = inputs.analysis_id ?? '';
    const response = await fetch(artifactUrl);
    const key = response.headers.get(RESULT_KEY_HEADER);
    const bytes = Buffer.from(await response.arrayBuffer());
    if (!response.ok || !key || integrityOf(bytes) !== inputs.integrity) return 'failure';
    const artifact = JSON.parse(bytes.toString('utf8')) as Bundle | BatchBundle;
    const result: ResultDocument =
      artifact.kind === 'batch'
        ? { analysisId, batch: recordedBatch(run, artifact.packages) }
        : { analysisId, run };
    const body = JSON.stringify(result);
    const posted = await fetch(resultUrlFor(artifactUrl, analysisId), {
      method: 'POST',
      headers: { 'content-type': 'application/json', [SIGNATURE_HEADER]: signBody(key, body) },
      body,
    });
    return posted.ok ? 'success' : 'failure';
  };
}

/**
 * A batch's result as a runner reports it when each package's run was `run`: in the order sent, the
 * packages loaded one after the other in one loader (each shares it with those before it), nothing
 * ambiguous.
 */
export function recordedBatch(
  run: PhaseRun,
  packages: readonly { name: string; version: string }[],
): WireBatchRun {
  const ids = packages.map((p) => `${p.name}@${p.version}`);
  return {
    status: run.status,
    durationMs: run.durationMs,
    packages: packages.map((p, i) => ({
      name: p.name,
      version: p.version,
      id: ids[i]!,
      packageDir: `${run.projectDir}/node_modules/${p.name}`,
      status: run.status,
      ran: true,
      durationMs: run.durationMs,
      ...(run.exitCode !== undefined && { exitCode: run.exitCode }),
      events: run.events,
      ambiguousSeqs: [],
      needsIsolation: false,
      sharedWith: ids.slice(0, i),
      details: run.details,
    })),
    ambiguous: [],
    honeytokens: run.honeytokens,
    home: run.home,
    projectDir: run.projectDir,
    details: run.details,
  };
}

/** A benign phase run as a quiet runner reports it: completed, exit 0, nothing observed. */
export function quietRun(): PhaseRun {
  return {
    status: 'completed',
    exitCode: 0,
    durationMs: 1,
    events: [],
    honeytokens: [],
    home: '/home/runner',
    projectDir: '/home/runner/project',
    packageDir: '/home/runner/project/node_modules/package',
    details: ['recorded result (fan-out bench: the sandbox did not run)'],
  };
}

export interface FanoutStats {
  /** Workflows started and not yet ended. */
  inFlight: number;
  maxInFlight: number;
  started: number;
  /** Date.now() when the first run started, and when the last one ended. */
  firstStartedAt?: number;
  lastEndedAt?: number;
}

/**
 * `workflow` with a runner's latency: each run waits `latencyMs` (queueing, start-up, the job) before
 * the workflow itself ends. `stats` counts the runs in flight while they run.
 */
export function withSimulatedLatency(
  workflow: (inputs: Record<string, string>) => Promise<WorkflowOutcome>,
  latencyMs: number,
  stats: FanoutStats = { inFlight: 0, maxInFlight: 0, started: 0 },
): (inputs: Record<string, string>) => Promise<WorkflowOutcome> {
  return async (inputs) => {
    stats.started++;
    stats.firstStartedAt ??= Date.now();
    stats.maxInFlight = Math.max(stats.maxInFlight, ++stats.inFlight);
    try {
      await sleep(latencyMs);
      return await workflow(inputs);
    } finally {
      stats.inFlight--;
      stats.lastEndedAt = Date.now();
    }
  };
}
