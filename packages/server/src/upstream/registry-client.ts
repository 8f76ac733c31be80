import { Agent, interceptors, request } from 'undici';
import type { Dispatcher } from 'undici';
import { setTimeout as delay } from 'node:timers/promises';
import { RemoteError, UserError, redact } from '@secure-registry/shared';
import { PackumentCache } from './packument-cache.js';

export interface RegistryClientOptions {
  /** Base URL of the upstream registry, with or without a trailing slash. */
  baseUrl: string;
  /**
   * Wall-clock limit of one request (each retry has its own), in milliseconds; also the longest
   * wait for response headers and between body chunks (at most 30 s).
   */
  timeoutMs?: number;
  /** Retries of requests that failed on the network, timed out or got 5xx/408/429. */
  retry?: UpstreamRetry;
  /** How long a fetched packument is reused, in milliseconds. */
  packumentTtlMs?: number;
  /** The most packument JSON kept for reuse at once, in bytes (./packument-cache.ts). Default 16 MiB. */
  packumentCacheBytes?: number;
  maxPackumentBytes?: number;
  maxTarballBytes?: number;
}

/** The parts of a full packument this server reads. Everything else is kept as-is. */
export interface Packument {
  name?: string;
  versions?: Record<string, PackumentVersion | undefined>;
  time?: Record<string, string>;
  [key: string]: unknown;
}

export interface PackumentVersion {
  name?: string;
  version?: string;
  dist?: { tarball?: string; integrity?: string; shasum?: string; [key: string]: unknown };
  [key: string]: unknown;
}

export interface UpstreamRetry {
  /** Attempts of one request, the first included. */
  attempts: number;
  /** Delay before the second attempt; doubled for each further one. */
  baseDelayMs: number;
}

export const DEFAULT_UPSTREAM_TIMEOUT_MS = 60_000;
export const DEFAULT_UPSTREAM_RETRY: UpstreamRetry = { attempts: 3, baseDelayMs: 250 };

/** An upstream answer with an HTTP status; 4xx other than 408/429 are not worth retrying. */
export class UpstreamHttpError extends RemoteError {
  readonly status: number;
  constructor(status: number, url: string) {
    super('ERR_SR_UPSTREAM_HTTP', `upstream answered ${status} for ${redact(url)}`);
    this.status = status;
  }
  get retryable(): boolean {
    return this.status >= 500 || this.status === 408 || this.status === 429;
  }
}

/** Codes of the failures to fetch from upstream that are worth another attempt. */
const RETRYABLE_CODES = new Set(['ERR_SR_UPSTREAM_NETWORK', 'ERR_SR_UPSTREAM_TIMEOUT']);

function isRetryable(error: unknown): boolean {
  if (error instanceof UpstreamHttpError) return error.retryable;
  return error instanceof RemoteError && RETRYABLE_CODES.has(error.code);
}

/**
 * True when the upstream registry could not be asked or gave no usable answer (an outage: refused
 * or reset connections, timeouts, 5xx, an answer that is not a packument, a refusal such as 401):
 * an infrastructure failure, not a fact about the package. A 404 (no such package or tarball) and
 * an oversize response are facts about the package.
 */
export function isUpstreamUnavailable(error: unknown): error is RemoteError {
  if (error instanceof UpstreamHttpError) return error.status !== 404 && error.status !== 410;
  return (
    error instanceof RemoteError &&
    (RETRYABLE_CODES.has(error.code) || error.code === 'ERR_SR_UPSTREAM_BAD_PACKUMENT')
  );
}

/** Encodes a package name for a registry URL the way npm does: `@scope%2fname`. */
export function encodeRegistryName(name: string): string {
  if (name.startsWith('@')) {
    const slash = name.indexOf('/');
    if (slash > 1) {
      return `@${encodeURIComponent(name.slice(1, slash))}%2f${encodeURIComponent(name.slice(slash + 1))}`;
    }
  }
  return encodeURIComponent(name);
}

export function normalizeBaseUrl(baseUrl: string): string {
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch {
    throw new UserError('ERR_SR_BAD_UPSTREAM', `the upstream registry URL is not valid: ${baseUrl}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UserError('ERR_SR_BAD_UPSTREAM', `the upstream registry must be http(s): ${baseUrl}`);
  }
  return url.href.endsWith('/') ? url.href : `${url.href}/`;
}

/**
 * Talks to the upstream npm registry with undici. Full packuments (`Accept: application/json`)
 * are cached briefly and identical concurrent fetches share one request (single flight).
 */
export class RegistryClient {
  readonly baseUrl: string;
  private readonly dispatcher: Dispatcher;
  private readonly agent: Agent;
  private readonly timeoutMs: number;
  private readonly retry: UpstreamRetry;
  private readonly maxPackumentBytes: number;
  private readonly maxTarballBytes: number;
  private readonly cache: PackumentCache<Packument>;
  private readonly inflight = new Map<string, Promise<Packument>>();
  /** Number of packument requests actually sent upstream (for tests and metrics). */
  packumentFetches = 0;

  constructor(options: RegistryClientOptions) {
    this.baseUrl = normalizeBaseUrl(options.baseUrl);
    this.timeoutMs = options.timeoutMs ?? DEFAULT_UPSTREAM_TIMEOUT_MS;
    this.retry = options.retry ?? DEFAULT_UPSTREAM_RETRY;
    this.cache = new PackumentCache({
      ttlMs: options.packumentTtlMs ?? 60_000,
      maxBytes: options.packumentCacheBytes ?? 16 * 1024 * 1024,
    });
    this.maxPackumentBytes = options.maxPackumentBytes ?? 256 * 1024 * 1024;
    this.maxTarballBytes = options.maxTarballBytes ?? 512 * 1024 * 1024;
    const idleMs = Math.min(this.timeoutMs, 30_000);
    this.agent = new Agent({
      headersTimeout: idleMs,
      bodyTimeout: idleMs,
      connectTimeout: Math.min(idleMs, 10_000),
    });
    this.dispatcher = this.agent.compose(interceptors.redirect({ maxRedirections: 5 }));
  }

  packumentUrl(name: string): string {
    return this.baseUrl + encodeRegistryName(name);
  }

  /**
   * The full packument of `name` (cached for a short time, single flight). `fresh` skips the
   * cache (a version published since it was cached).
   */
  async getPackument(
    name: string,
    options: { signal?: AbortSignal; fresh?: boolean } = {},
  ): Promise<Packument> {
    const cached = options.fresh ? undefined : this.cache.get(name);
    if (cached) return cached;
    const running = this.inflight.get(name);
    if (running) return running;
    const promise = this.fetchPackument(name, options.signal).finally(() => this.inflight.delete(name));
    this.inflight.set(name, promise);
    return promise;
  }

  private async fetchPackument(name: string, signal: AbortSignal | undefined): Promise<Packument> {
    const url = this.packumentUrl(name);
    this.packumentFetches++;
    const body = await this.getBytes(url, {
      accept: 'application/json',
      maxBytes: this.maxPackumentBytes,
      signal,
    });
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString('utf8'));
    } catch {
      throw new RemoteError(
        'ERR_SR_UPSTREAM_BAD_PACKUMENT',
        `upstream packument of ${name} is not valid JSON`,
      );
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new RemoteError(
        'ERR_SR_UPSTREAM_BAD_PACKUMENT',
        `upstream packument of ${name} is not an object`,
      );
    }
    const packument = parsed as Packument;
    this.cache.set(name, packument, body.length);
    return packument;
  }

  /** Downloads a tarball into memory, refusing more than the configured size. */
  async getTarball(url: string, options: { signal?: AbortSignal } = {}): Promise<Buffer> {
    return this.getBytes(url, {
      accept: 'application/octet-stream',
      maxBytes: this.maxTarballBytes,
      signal: options.signal,
    });
  }

  /**
   * One GET with retries: failures on the network, timeouts and 5xx/408/429 are tried again after
   * a growing delay, up to `retry.attempts` in all; the last failure is thrown, naming the attempts.
   */
  private async getBytes(
    url: string,
    options: { accept: string; maxBytes: number; signal: AbortSignal | undefined },
  ): Promise<Buffer> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.getBytesOnce(url, options);
      } catch (error) {
        if (options.signal?.aborted || !isRetryable(error)) throw error;
        if (attempt >= this.retry.attempts) {
          if (error instanceof RemoteError && attempt > 1) {
            error.message = `${error.message} (${attempt} attempts)`;
          }
          throw error;
        }
        await delay(this.retry.baseDelayMs * 2 ** (attempt - 1), undefined, { signal: options.signal });
      }
    }
  }

  /** One GET bounded by `timeoutMs` from the request to the last byte of the body. */
  private async getBytesOnce(
    url: string,
    options: { accept: string; maxBytes: number; signal: AbortSignal | undefined },
  ): Promise<Buffer> {
    const deadline = AbortSignal.timeout(this.timeoutMs);
    const signal = options.signal ? AbortSignal.any([options.signal, deadline]) : deadline;
    const failure = (what: string, error: unknown): RemoteError => {
      if (options.signal?.aborted) return error as RemoteError;
      if (deadline.aborted || isUndiciTimeout(error)) {
        return new RemoteError(
          'ERR_SR_UPSTREAM_TIMEOUT',
          `upstream did not answer ${redact(url)} within ${this.timeoutMs} ms`,
          { cause: error },
        );
      }
      return new RemoteError('ERR_SR_UPSTREAM_NETWORK', `${what} ${redact(url)}: ${errorMessage(error)}`, {
        cause: error,
      });
    };
    let response: Dispatcher.ResponseData;
    try {
      response = await request(url, {
        dispatcher: this.dispatcher,
        method: 'GET',
        headers: { accept: options.accept, 'user-agent': 'secure-registry-server' },
        signal,
      });
    } catch (error) {
      if (options.signal?.aborted) throw error;
      throw failure('cannot reach upstream', error);
    }
    if (response.statusCode !== 200) {
      discard(response.body);
      throw new UpstreamHttpError(response.statusCode, url);
    }
    const declared = Number(response.headers['content-length']);
    if (Number.isFinite(declared) && declared > options.maxBytes) {
      discard(response.body);
      throw tooLarge(url, options.maxBytes);
    }
    const chunks: Buffer[] = [];
    let total = 0;
    try {
      for await (const chunk of response.body) {
        total += (chunk as Buffer).length;
        if (total > options.maxBytes) {
          discard(response.body);
          throw tooLarge(url, options.maxBytes);
        }
        chunks.push(chunk as Buffer);
      }
    } catch (error) {
      if (error instanceof RemoteError || options.signal?.aborted) throw error;
      throw failure('download failed from', error);
    }
    return Buffer.concat(chunks, total);
  }

  async close(): Promise<void> {
    await this.agent.close();
  }
}

function tooLarge(url: string, maxBytes: number): RemoteError {
  return new RemoteError(
    'ERR_SR_UPSTREAM_TOO_LARGE',
    `upstream response for ${redact(url)} exceeds ${maxBytes} bytes`,
  );
}

/** undici's own connect, headers and body timeouts. */
function isUndiciTimeout(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return (
    code === 'UND_ERR_CONNECT_TIMEOUT' ||
    code === 'UND_ERR_HEADERS_TIMEOUT' ||
    code === 'UND_ERR_BODY_TIMEOUT'
  );
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Drops a response body without letting its abort surface as an unhandled error. */
function discard(body: Dispatcher.ResponseData['body']): void {
  body.on('error', () => undefined);
  body.destroy();
}
