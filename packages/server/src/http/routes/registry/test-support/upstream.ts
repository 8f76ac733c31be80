/** A real HTTP upstream registry on 127.0.0.1 for route tests: packuments and tarballs in memory. */
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sha512Integrity, makePackageTarball } from '../../../../services/registry/test-support/fixtures.js';

export interface FakeUpstream {
  url: string;
  packuments: Map<string, Record<string, unknown>>;
  tarballs: Map<string, Buffer>;
  /** Packument requests received, by name. */
  hits: Map<string, number>;
  /** `ok`, or `error`: 503 for everything. Packuments are answered after `delayMs`. */
  mode: 'ok' | 'error';
  delayMs: number;
  /** Adds a version (creating the packument); returns its tarball bytes and integrity. */
  addVersion(
    name: string,
    version: string,
    options?: { manifest?: Record<string, unknown>; tags?: Record<string, string>; time?: string },
  ): { bytes: Buffer; integrity: string };
  close(): Promise<void>;
}

function bareName(name: string): string {
  return name.slice(name.lastIndexOf('/') + 1);
}

export async function startUpstream(): Promise<FakeUpstream> {
  const packuments = new Map<string, Record<string, unknown>>();
  const tarballs = new Map<string, Buffer>();
  const hits = new Map<string, number>();
  const upstream: FakeUpstream = {
    url: '',
    packuments,
    tarballs,
    hits,
    mode: 'ok',
    delayMs: 0,
    addVersion(name, version, options = {}) {
      const bytes = makePackageTarball(name, version, options.manifest ?? {});
      const integrity = sha512Integrity(bytes);
      const path = `/${name}/-/${bareName(name)}-${version}.tgz`;
      tarballs.set(path, bytes);
      const doc = packuments.get(name) ?? {
        _id: name,
        name,
        'dist-tags': {},
        versions: {},
        time: { created: '2020-01-01T00:00:00.000Z' },
      };
      const time =
        options.time ??
        new Date(Date.UTC(2021, 0, 1 + Object.keys(doc.versions as object).length)).toISOString();
      (doc.versions as Record<string, unknown>)[version] = {
        name,
        version,
        ...options.manifest,
        dist: { integrity, tarball: `${upstream.url}${path}` },
      };
      (doc.time as Record<string, string>)[version] = time;
      (doc.time as Record<string, string>).modified = time;
      doc['dist-tags'] = { ...(doc['dist-tags'] as object), latest: version, ...options.tags };
      packuments.set(name, doc);
      return { bytes, integrity };
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
  const server: Server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://x');
    if (upstream.mode === 'error') {
      response.writeHead(503, { 'content-type': 'application/json' }).end('{"error":"down"}');
      return;
    }
    const tarball = tarballs.get(decodeURIComponent(url.pathname));
    if (tarball) {
      response.writeHead(200, { 'content-type': 'application/octet-stream' }).end(tarball);
      return;
    }
    const name = decodeURIComponent(url.pathname.slice(1));
    hits.set(name, (hits.get(name) ?? 0) + 1);
    const doc = packuments.get(name);
    setTimeout(() => {
      if (!doc) response.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"Not found"}');
      else response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(doc));
    }, upstream.delayMs);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  upstream.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return upstream;
}
