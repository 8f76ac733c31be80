// A small GitHub REST client for what the executor calls: workflow dispatch, workflow runs, repository
// and workflow look-ups. Rate limits are waited out as GitHub documents them: `retry-after` on 403/429,
// `x-ratelimit-reset` when `x-ratelimit-remaining` is 0, at least a minute for a secondary limit that
// names no time. 5xx answers and network errors are retried a few times (infrastructure); other errors
// come back as GitHubApiError with GitHub's message.
import { setTimeout as sleep } from 'node:timers/promises';

export class GitHubApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly documentationUrl?: string,
    /** `x-accepted-github-permissions` of a 403: the permissions the endpoint takes (`actions=write`). */
    readonly accepted?: string,
  ) {
    super(message);
  }
}

export interface GitHubApiOptions {
  /** https://api.github.com, or a stand-in. */
  baseUrl: string;
  token: string;
  /** Attempts for 5xx and network errors. Default 4. */
  attempts?: number;
  /** Longest single rate-limit wait honoured (ms); a longer one fails the call. Default 15 minutes. */
  maxRateLimitWaitMs?: number;
  /** Delay before retrying a 5xx/network error (ms, doubled each attempt). Default 1 000. */
  backoffMs?: number;
  signal?: AbortSignal;
}

export interface GitHubResponse<T> {
  status: number;
  body: T;
  headers: Headers;
}

/** How long a rate-limited answer asks to wait, or undefined when it is not a rate limit. */
export function rateLimitWaitMs(
  status: number,
  headers: Headers,
  message: string,
  now = Date.now(),
): number | undefined {
  if (status !== 403 && status !== 429) return undefined;
  const retryAfter = headers.get('retry-after');
  if (retryAfter !== null && /^\d+$/.test(retryAfter.trim())) return Number(retryAfter.trim()) * 1000;
  if (headers.get('x-ratelimit-remaining') === '0') {
    const reset = Number(headers.get('x-ratelimit-reset'));
    if (Number.isFinite(reset)) return Math.max(1000, reset * 1000 - now);
  }
  if (status === 429 || /secondary rate limit/i.test(message)) return 60_000;
  return undefined;
}

export class GitHubApi {
  readonly #options: Required<Omit<GitHubApiOptions, 'signal'>> & { signal?: AbortSignal };

  constructor(options: GitHubApiOptions) {
    this.#options = { attempts: 4, maxRateLimitWaitMs: 15 * 60_000, backoffMs: 1000, ...options };
  }

  async request<T>(method: string, path: string, body?: unknown): Promise<GitHubResponse<T>> {
    const url = new URL(path.replace(/^\//, ''), this.#options.baseUrl.replace(/\/?$/, '/'));
    let failures = 0;
    for (;;) {
      let response: Response;
      try {
        response = await fetch(url, {
          method,
          headers: {
            accept: 'application/vnd.github+json',
            authorization: `Bearer ${this.#options.token}`,
            'x-github-api-version': '2022-11-28',
            'user-agent': 'secure-registry-server',
            ...(body !== undefined && { 'content-type': 'application/json' }),
          },
          ...(body !== undefined && { body: JSON.stringify(body) }),
          ...(this.#options.signal && { signal: this.#options.signal }),
        });
      } catch (error) {
        if (this.#options.signal?.aborted) throw error;
        if (++failures >= this.#options.attempts)
          throw new GitHubApiError(0, `GitHub API unreachable at ${url.origin}: ${(error as Error).message}`);
        await sleep(this.#options.backoffMs * 2 ** (failures - 1));
        continue;
      }
      const text = await response.text();
      let parsed: unknown = undefined;
      try {
        parsed = text === '' ? undefined : JSON.parse(text);
      } catch {
        parsed = undefined;
      }
      if (response.ok) return { status: response.status, body: parsed as T, headers: response.headers };
      const error = parsed as { message?: string; documentation_url?: string } | undefined;
      const message = error?.message ?? (text.slice(0, 200) || response.statusText);
      const wait = rateLimitWaitMs(response.status, response.headers, message);
      if (wait !== undefined) {
        if (wait > this.#options.maxRateLimitWaitMs)
          throw new GitHubApiError(
            response.status,
            `rate limited for ${Math.ceil(wait / 1000)} s: ${message}`,
          );
        await sleep(wait, undefined, this.#options.signal ? { signal: this.#options.signal } : undefined);
        continue;
      }
      if (response.status >= 500 && ++failures < this.#options.attempts) {
        await sleep(this.#options.backoffMs * 2 ** (failures - 1));
        continue;
      }
      throw new GitHubApiError(
        response.status,
        `${method} ${url.pathname}: ${response.status} ${message}`,
        error?.documentation_url,
        response.headers.get('x-accepted-github-permissions') ?? undefined,
      );
    }
  }
}

export interface WorkflowRun {
  id: number;
  name?: string;
  status: string;
  conclusion: string | null;
  html_url: string;
}

export interface DispatchResponse {
  workflow_run_id?: number;
  run_url?: string;
  html_url?: string;
}
