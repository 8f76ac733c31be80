import { Agent, request } from 'undici';
import {
  API_PREFIX,
  CreateScanRequest,
  ErrorBody,
  formatZodIssues,
  PackageVerdictResponse,
  RemoteError,
  ReviewDecisionRequest,
  ReviewDecisionResponse,
  ReviewListResponse,
  ScanResult,
  ScanSummary,
  UserError,
  VerdictSignaturesResponse,
  redact,
} from '@secure-registry/shared';
import type { VerdictSignaturesRequest } from '@secure-registry/shared';
import type { z } from 'zod';

export interface ApiClientOptions {
  server: string;
  token?: string | undefined;
  /** Per-request timeout for headers (the SSE body itself may stay open). */
  timeoutMs?: number;
}

/** The only HTTP user in the CLI: talks to a secure-registry server's `/api/v1`. */
export class ApiClient {
  readonly server: string;
  readonly #token: string | undefined;
  readonly #dispatcher: Agent;

  constructor(options: ApiClientOptions) {
    let url: URL;
    try {
      url = new URL(options.server);
    } catch {
      throw new UserError(
        'ERR_SR_BAD_SERVER_URL',
        `not a valid server URL: ${JSON.stringify(options.server)}`,
      );
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new UserError('ERR_SR_BAD_SERVER_URL', `the server URL must be http(s): ${options.server}`);
    }
    this.server = url.href.replace(/\/+$/, '');
    this.#token = options.token;
    const timeout = options.timeoutMs ?? 30_000;
    this.#dispatcher = new Agent({ headersTimeout: timeout, connectTimeout: timeout, bodyTimeout: 0 });
  }

  async close(): Promise<void> {
    await this.#dispatcher.close();
  }

  #headers(extra: Record<string, string> = {}): Record<string, string> {
    return {
      accept: 'application/json',
      ...(this.#token ? { authorization: `Bearer ${this.#token}` } : {}),
      ...extra,
    };
  }

  async #call(method: 'GET' | 'POST', path: string, body?: unknown) {
    const url = `${this.server}${API_PREFIX}${path}`;
    try {
      return await request(url, {
        method,
        dispatcher: this.#dispatcher,
        headers: this.#headers(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    } catch (error) {
      throw networkError(url, error);
    }
  }

  async #json<T>(method: 'GET' | 'POST', path: string, schema: z.ZodType<T>, body?: unknown): Promise<T> {
    return this.#parse(await this.#call(method, path, body), method, path, schema);
  }

  async #parse<T>(
    response: Awaited<ReturnType<typeof request>>,
    method: 'GET' | 'POST',
    path: string,
    schema: z.ZodType<T>,
  ): Promise<T> {
    const text = await response.body.text().catch((error: unknown) => {
      throw networkError(`${this.server}${API_PREFIX}${path}`, error);
    });
    if (response.statusCode >= 400) throw httpError(response.statusCode, method, path, text);
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new RemoteError('ERR_SR_BAD_RESPONSE', `${method} ${path}: the server sent invalid JSON`);
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      throw new RemoteError(
        'ERR_SR_BAD_RESPONSE',
        `${method} ${path}: unexpected response shape (${parsed.error.issues[0]?.message ?? 'invalid'})`,
      );
    }
    return parsed.data;
  }

  createScan(body: CreateScanRequest): Promise<ScanSummary> {
    const parsed = CreateScanRequest.safeParse(body);
    if (!parsed.success) {
      // A lockfile entry of the wrong type or size, or a name npm could not have published: bad input.
      const index = parsed.error.issues[0]?.path[2];
      const key = typeof index === 'number' ? body.graph.nodes[index]?.key : undefined;
      const entry = key !== undefined ? ` (lockfile entry ${JSON.stringify(key)})` : '';
      throw new UserError(
        'ERR_SR_INVALID_LOCKFILE',
        `the lockfile is not valid${entry}: ${formatZodIssues(parsed.error)}`,
      );
    }
    return this.#json('POST', '/scans', ScanSummary, parsed.data);
  }

  getScan(id: string): Promise<ScanResult> {
    return this.#json('GET', `/scans/${encodeURIComponent(id)}`, ScanResult);
  }

  /**
   * The verdict on one artifact with its stage reports; undefined when the server has none (never
   * vetted). `integrity` picks the artifact when several share the version.
   */
  async getPackageVerdict(
    name: string,
    version: string,
    integrity?: string,
  ): Promise<PackageVerdictResponse | undefined> {
    const query = integrity ? `?integrity=${encodeURIComponent(integrity)}` : '';
    const path = `/packages/${encodeURIComponent(name)}/${encodeURIComponent(version)}${query}`;
    const response = await this.#call('GET', path);
    if (response.statusCode === 404) {
      await response.body.dump();
      return undefined;
    }
    return this.#parse(response, 'GET', path, PackageVerdictResponse);
  }

  /**
   * Who the server takes this client for (npm's `GET /-/whoami`, answered by every role): how
   * `login` checks a token before storing it. A refused token is ERR_SR_UNAUTHORIZED.
   */
  async whoami(): Promise<string> {
    const url = `${this.server}/-/whoami`;
    let response;
    try {
      response = await request(url, {
        method: 'GET',
        dispatcher: this.#dispatcher,
        headers: this.#headers(),
      });
    } catch (error) {
      throw networkError(url, error);
    }
    const text = await response.body.text().catch((error: unknown) => {
      throw networkError(url, error);
    });
    const json = safeJson(text);
    if (response.statusCode >= 400) {
      const parsed = ErrorBody.safeParse(json);
      const detail = parsed.success ? parsed.data.error : `HTTP ${response.statusCode}`;
      if (response.statusCode === 401 || response.statusCode === 403) {
        throw new RemoteError(
          'ERR_SR_UNAUTHORIZED',
          redact(
            `the server at ${this.server} refused the ${this.#token ? 'token' : 'login without a token'}: ${detail}`,
          ),
          { hint: 'create a token with `secure-registry-server token create --role ci` on the server' },
        );
      }
      throw new RemoteError(
        response.statusCode >= 500 ? 'ERR_SR_SERVER' : 'ERR_SR_REQUEST',
        redact(
          `GET ${url} failed with HTTP ${response.statusCode}: ${detail} (is this a secure-registry server?)`,
        ),
      );
    }
    const username = (json as { username?: unknown } | undefined)?.username;
    if (typeof username !== 'string') {
      throw new RemoteError('ERR_SR_BAD_RESPONSE', `GET ${url}: not a secure-registry server's answer`);
    }
    return username;
  }

  /**
   * What the stored verdicts of these artifacts rest on (a warm re-check of a kept result);
   * undefined when the server does not answer that (an older server).
   */
  async verdictSignatures(
    artifacts: VerdictSignaturesRequest['artifacts'],
  ): Promise<VerdictSignaturesResponse | undefined> {
    const path = '/verdicts/signatures';
    const response = await this.#call('POST', path, { artifacts });
    if (response.statusCode === 404) {
      await response.body.dump();
      return undefined;
    }
    return this.#parse(response, 'POST', path, VerdictSignaturesResponse);
  }

  /** Packages held for review, with their evidence (reviewer or admin role). */
  listReviews(): Promise<ReviewListResponse> {
    return this.#json('GET', '/reviews', ReviewListResponse);
  }

  /** Records a review decision (reviewer or admin role); appended, never replaced. */
  decideReview(body: ReviewDecisionRequest): Promise<ReviewDecisionResponse> {
    return this.#json('POST', '/reviews', ReviewDecisionResponse, ReviewDecisionRequest.parse(body));
  }

  /**
   * Opens the scan's event stream and yields decoded text chunks until the server closes it.
   * Throws RemoteError when the connection cannot be made or fails mid-stream.
   */
  async *streamEvents(
    id: string,
    lastEventId: string | undefined,
    signal?: AbortSignal,
  ): AsyncGenerator<string> {
    const path = `/scans/${encodeURIComponent(id)}/events`;
    const url = `${this.server}${API_PREFIX}${path}`;
    let response;
    try {
      response = await request(url, {
        method: 'GET',
        dispatcher: this.#dispatcher,
        headers: this.#headers({
          accept: 'text/event-stream',
          ...(lastEventId !== undefined ? { 'last-event-id': lastEventId } : {}),
        }),
        ...(signal ? { signal } : {}),
      });
    } catch (error) {
      throw networkError(url, error);
    }
    if (response.statusCode >= 400) {
      throw httpError(response.statusCode, 'GET', path, await response.body.text().catch(() => ''));
    }
    response.body.setEncoding('utf8');
    try {
      for await (const chunk of response.body) yield chunk as string;
    } catch (error) {
      throw networkError(url, error);
    }
  }
}

function networkError(url: string, error: unknown): RemoteError {
  const cause = error as { code?: string; message?: string } | undefined;
  const detail = cause?.code ?? cause?.message ?? String(error);
  return new RemoteError('ERR_SR_NETWORK', redact(`cannot reach the server at ${url}: ${detail}`), {
    hint: 'check the server URL (`secure-registry login --server …` or SECURE_REGISTRY_SERVER) and that it is running',
    cause: error,
  });
}

function httpError(status: number, method: string, path: string, text: string) {
  let message = text.slice(0, 500);
  const parsed = ErrorBody.safeParse(safeJson(text));
  if (parsed.success) message = parsed.data.error;
  const summary = redact(`${method} ${API_PREFIX}${path} failed with HTTP ${status}: ${message}`);
  if (status === 401 || status === 403) {
    return new RemoteError('ERR_SR_UNAUTHORIZED', summary, {
      hint: 'log in with `secure-registry login --server URL --token T` or set SECURE_REGISTRY_TOKEN',
    });
  }
  if (status === 413) {
    return new RemoteError('ERR_SR_TOO_LARGE', summary, {
      hint: 'the dependency graph exceeds the server limit',
    });
  }
  return new RemoteError(status >= 500 ? 'ERR_SR_SERVER' : 'ERR_SR_REQUEST', summary);
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
