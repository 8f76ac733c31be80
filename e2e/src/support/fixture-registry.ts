import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ABBREVIATED_MEDIA_TYPE } from '@secure-registry/shared';
import { packFixtureTree, packInline } from './fixture-packages.js';
import type { FixturePackage, PackedVersion } from './fixture-packages.js';
import { buildEntries } from './packument.js';
import type { RegistryEntry } from './packument.js';
import { FIXTURE_PACKAGES_DIR } from './paths.js';

export type { FixtureMeta, FixturePackage, PackedVersion, PackageManifest } from './fixture-packages.js';

/** A way to make matching requests fail, for testing how clients cope with a broken upstream. */
export interface FailureRule {
  /** Requests whose URL contains this string or matches this pattern; every request when absent. */
  match?: string | RegExp;
  /**
   * `status`: answer with `status` (default 500); `reset`: destroy the socket without answering;
   * `hang`: never answer; `truncate`: announce the full length, send half, then destroy;
   * `corrupt`: serve the body with one byte changed (tarballs then fail their integrity).
   */
  kind: 'status' | 'reset' | 'hang' | 'truncate' | 'corrupt';
  status?: number;
  /** How many matching requests fail before the rule stops applying; unlimited when absent. */
  times?: number;
}

export interface RequestRecord {
  method: string;
  url: string;
  accept?: string;
}

export interface FixtureRegistryOptions {
  /** Packages defined in code, or a directory tree of fixture packages (default: all fixtures). */
  packages?: FixturePackage[] | { dir: string | string[] };
  /** More packages defined in code, added to the above. */
  extraPackages?: FixturePackage[];
  /** Delay in milliseconds before every response. */
  latency?: number;
}

export interface FixtureRegistry {
  /** Base URL without a trailing slash, e.g. `http://127.0.0.1:41234`. */
  url: string;
  /** Every request received, in order. */
  requests: RequestRecord[];
  /** Requests for tarballs only. */
  tarballRequests(): RequestRecord[];
  /** Every version served. */
  packages(): PackedVersion[];
  /** One served version, or undefined. */
  find(name: string, version: string): PackedVersion | undefined;
  /** Replaces the failure rules (null clears them). */
  setFailure(rule: FailureRule | FailureRule[] | null): void;
  /** Adds (or replaces) a version while running, as a new publication would. */
  publish(pkg: FixturePackage): Promise<PackedVersion>;
  close(): Promise<void>;
}

const TARBALL_PATH = /^\/(.+)\/-\/([^/]+\.tgz)$/;

async function loadPackages(options: FixtureRegistryOptions): Promise<PackedVersion[]> {
  const source = options.packages ?? { dir: FIXTURE_PACKAGES_DIR };
  const packed: PackedVersion[] = [];
  if (Array.isArray(source)) {
    for (const pkg of source) packed.push(await packInline(pkg));
  } else {
    for (const dir of Array.isArray(source.dir) ? source.dir : [source.dir])
      packed.push(...(await packFixtureTree(dir)));
  }
  for (const pkg of options.extraPackages ?? []) packed.push(await packInline(pkg));
  return packed;
}

function decodeName(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

function sendJson(
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  body: unknown,
  type = 'application/json',
): void {
  const text = JSON.stringify(body);
  const etag = `"${createHash('sha1').update(text).digest('hex')}"`;
  if (status === 200 && req.headers['if-none-match'] === etag) {
    res.writeHead(304, { etag }).end();
    return;
  }
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(text), etag });
  res.end(req.method === 'HEAD' ? undefined : text);
}

function notFound(req: IncomingMessage, res: ServerResponse): void {
  sendJson(req, res, 404, { error: 'Not found' });
}

/** Starts a real npm-protocol registry on 127.0.0.1 serving the given fixture packages. */
export async function startFixtureRegistry(options: FixtureRegistryOptions = {}): Promise<FixtureRegistry> {
  const packed = await loadPackages(options);
  const requests: RequestRecord[] = [];
  let failures: (FailureRule & { used: number })[] = [];
  let entries = new Map<string, RegistryEntry>();
  let baseUrl = '';
  const startedAt = Date.now();

  function takeFailure(url: string): FailureRule | undefined {
    const rule = failures.find(
      (r) =>
        (r.times === undefined || r.used < r.times) &&
        (r.match === undefined || (typeof r.match === 'string' ? url.includes(r.match) : r.match.test(url))),
    );
    if (rule) rule.used++;
    return rule;
  }

  function serveTarball(
    req: IncomingMessage,
    res: ServerResponse,
    name: string,
    file: string,
    rule?: FailureRule,
  ): void {
    const version = entries.get(name)?.tarballs.get(file);
    if (!version) return notFound(req, res);
    let body = version.tarball;
    if (rule?.kind === 'corrupt') {
      body = Buffer.from(body);
      const at = body.length >> 1;
      body[at] = (body[at] ?? 0) ^ 0xff;
    }
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': body.length });
    if (req.method === 'HEAD') return void res.end();
    if (rule?.kind === 'truncate') {
      res.write(body.subarray(0, body.length >> 1), () => res.destroy());
      return;
    }
    res.end(body);
  }

  function route(req: IncomingMessage, res: ServerResponse, rule?: FailureRule): void {
    const pathname = (req.url ?? '/').split('?')[0] ?? '/';
    if (req.method === 'POST' && pathname === '/-/npm/v1/security/advisories/bulk') {
      req.resume();
      return sendJson(req, res, 200, {});
    }
    if (req.method !== 'GET' && req.method !== 'HEAD')
      return sendJson(req, res, 405, { error: 'Method not allowed' });
    if (pathname === '/-/ping') return sendJson(req, res, 200, {});
    const tarball = TARBALL_PATH.exec(pathname);
    if (tarball) {
      const name = decodeName(tarball[1]!);
      return name === undefined ? notFound(req, res) : serveTarball(req, res, name, tarball[2]!, rule);
    }
    const decoded = decodeName(pathname.slice(1));
    if (decoded === undefined) return notFound(req, res);
    const entry = entries.get(decoded);
    if (entry) {
      const abbreviated = (req.headers.accept ?? '').includes(ABBREVIATED_MEDIA_TYPE);
      return abbreviated
        ? sendJson(req, res, 200, entry.abbreviated, ABBREVIATED_MEDIA_TYPE)
        : sendJson(req, res, 200, entry.full);
    }
    // `/<name>/<version-or-tag>`: one version's manifest.
    const slash = decoded.lastIndexOf('/');
    const parent = slash > 0 ? entries.get(decoded.slice(0, slash)) : undefined;
    if (!parent) return notFound(req, res);
    const wanted = decoded.slice(slash + 1);
    const tags = parent.full['dist-tags'] as Record<string, string>;
    const manifest = parent.versions.get(tags[wanted] ?? wanted);
    return manifest ? sendJson(req, res, 200, manifest) : notFound(req, res);
  }

  const server = createServer((req, res) => {
    requests.push({ method: req.method ?? 'GET', url: req.url ?? '/', accept: req.headers.accept });
    const respond = (): void => {
      const rule = takeFailure(req.url ?? '/');
      if (rule?.kind === 'hang') return;
      if (rule?.kind === 'reset') return void req.socket.destroy();
      if (rule?.kind === 'status')
        return sendJson(req, res, rule.status ?? 500, { error: 'injected failure' });
      try {
        route(req, res, rule);
      } catch (error) {
        sendJson(req, res, 500, { error: String(error) });
      }
    };
    if (options.latency) setTimeout(respond, options.latency);
    else respond();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  entries = buildEntries(packed, baseUrl, startedAt);

  return {
    url: baseUrl,
    requests,
    tarballRequests: () => requests.filter((r) => TARBALL_PATH.test(r.url.split('?')[0] ?? '')),
    packages: () => [...packed],
    find: (name, version) => packed.find((p) => p.name === name && p.version === version),
    setFailure(rule) {
      failures = rule === null ? [] : (Array.isArray(rule) ? rule : [rule]).map((r) => ({ ...r, used: 0 }));
    },
    async publish(pkg) {
      const version = await packInline(pkg);
      const index = packed.findIndex((p) => p.name === version.name && p.version === version.version);
      if (index >= 0) packed.splice(index, 1);
      packed.push(version);
      entries = buildEntries(packed, baseUrl, startedAt);
      return version;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
