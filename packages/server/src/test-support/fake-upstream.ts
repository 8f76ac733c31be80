/**
 * A real npm-registry-shaped HTTP server on 127.0.0.1 for tests: serves full packuments and
 * tarballs built with `tar` from in-memory files. Failures and slowness can be injected per path.
 */
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { create as createTar } from 'tar';

export interface FakeVersion {
  name: string;
  version: string;
  files?: Record<string, string>;
  /** Extra manifest fields (scripts, dependencies, …). */
  manifest?: Record<string, unknown>;
  /** Override `dist.integrity` in the packument (to simulate a tampered registry). */
  distIntegrity?: string | null;
  /** Serve these tarball bytes instead of building one from `files` (hand-crafted archives). */
  tarball?: Buffer;
  /** The packument's `time` of this version (default 2020-06-01). */
  publishedAt?: string;
  /** Leave `dist-tags.latest` where it is (default: the added version becomes latest). */
  untagged?: boolean;
}

export interface BuiltTarball {
  bytes: Buffer;
  integrity: string;
  shasum: string;
}

function tarballFacts(bytes: Buffer): BuiltTarball {
  return {
    bytes,
    integrity: `sha512-${createHash('sha512').update(bytes).digest('base64')}`,
    shasum: createHash('sha1').update(bytes).digest('hex'),
  };
}

/** Builds an npm-style `package/…` tarball. */
export async function buildTarball(files: Record<string, string>): Promise<BuiltTarball> {
  const dir = await mkdtemp(join(tmpdir(), 'sr-fake-pkg-'));
  try {
    for (const [path, content] of Object.entries(files)) {
      const target = join(dir, 'package', path);
      await mkdir(dirname(target), { recursive: true });
      await writeFile(target, content);
    }
    const chunks: Buffer[] = [];
    const stream = createTar({ gzip: true, cwd: dir, portable: true }, ['package']);
    for await (const chunk of stream) chunks.push(Buffer.from(chunk as Uint8Array));
    return tarballFacts(Buffer.concat(chunks));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export interface FakeRule {
  status?: number;
  delayMs?: number;
}

export class FakeUpstream {
  private readonly server: Server;
  private readonly packuments = new Map<string, Record<string, unknown>>();
  private readonly tarballs = new Map<string, Buffer>();
  readonly tarballInfo = new Map<string, BuiltTarball>();
  readonly rules = new Map<string, FakeRule>();
  /** Request counts by path. */
  readonly hits = new Map<string, number>();
  url = '';
  private readonly pendingDelays = new Set<() => void>();

  constructor() {
    this.server = createServer((req, res) => void this.handle(req, res));
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/`;
    return this;
  }

  async close(): Promise<void> {
    for (const release of this.pendingDelays) release();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  tarballPath(name: string, version: string): string {
    const bare = name.startsWith('@') ? name.split('/')[1]! : name;
    return `/${name}/-/${bare}-${version}.tgz`;
  }

  packumentPath(name: string): string {
    return name.startsWith('@') ? `/${name.replace('/', '%2f')}` : `/${name}`;
  }

  /** Adds a version (building its tarball) and returns the tarball facts. */
  async add(version: FakeVersion): Promise<BuiltTarball> {
    const manifest = { name: version.name, version: version.version, ...version.manifest };
    const files = { 'package.json': JSON.stringify(manifest, null, 2), ...version.files };
    const built = version.tarball ? tarballFacts(version.tarball) : await buildTarball(files);
    const path = this.tarballPath(version.name, version.version);
    this.tarballs.set(path, built.bytes);
    this.tarballInfo.set(`${version.name}@${version.version}`, built);
    const packument = this.packuments.get(version.name) ?? {
      name: version.name,
      'dist-tags': {},
      versions: {},
      time: { created: '2020-01-01T00:00:00.000Z' },
      maintainers: [{ name: 'alice', email: 'alice@example.test' }],
    };
    const dist: Record<string, unknown> = {
      tarball: `${this.url.replace(/\/$/, '')}${path}`,
      shasum: built.shasum,
    };
    if (version.distIntegrity !== null) dist.integrity = version.distIntegrity ?? built.integrity;
    (packument.versions as Record<string, unknown>)[version.version] = { ...manifest, dist };
    if (!version.untagged) (packument['dist-tags'] as Record<string, string>).latest = version.version;
    (packument.time as Record<string, string>)[version.version] =
      version.publishedAt ?? '2020-06-01T00:00:00.000Z';
    this.packuments.set(version.name, packument);
    return built;
  }

  count(path: string): number {
    return this.hits.get(path) ?? 0;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0]!;
    const normalized = path.replace(/%2F/g, '%2f');
    this.hits.set(normalized, this.count(normalized) + 1);
    const rule = this.rules.get(normalized);
    if (rule?.delayMs) {
      await new Promise<void>((resolve) => {
        const done = (): void => {
          clearTimeout(timer);
          this.pendingDelays.delete(done);
          resolve();
        };
        const timer = setTimeout(done, rule.delayMs);
        this.pendingDelays.add(done);
      });
    }
    if (rule?.status) {
      res.writeHead(rule.status, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: 'injected failure' }));
      return;
    }
    const tarball = this.tarballs.get(decodeURIComponent(normalized));
    if (tarball) {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': tarball.length });
      res.end(tarball);
      return;
    }
    const name = decodeURIComponent(normalized.slice(1));
    const packument = this.packuments.get(name);
    if (packument) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(packument));
      return;
    }
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: 'Not found' }));
  }
}
