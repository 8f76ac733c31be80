// The loopback upstream the lockfile benches scan against: every full packument of the lockfile downloaded
// once into `<work>/packuments`, served with tarball URLs pointing at the mirror's stored tarballs, and the
// lockfile's graph as `scan` submits it.
import { createServer, type Server } from 'node:http';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { DependencyGraph, ScanEvent } from '@secure-registry/shared';
import { graphFromLockfileData, SseParser } from '@secure-registry/cli';
import { rewritePackuments } from './mirror-rewrite.js';
import { eachLimited, REGISTRY, tarballFile, type Entry, type Lockfile } from './lockfile-bench.js';

const packumentFile = (work: string, name: string): string =>
  join(work, 'packuments', `${encodeURIComponent(name)}.json`);

/** Full packuments of every package name, downloaded once (the server reads times and maintainers). */
export async function downloadPackuments(work: string, names: string[]): Promise<void> {
  await mkdir(join(work, 'packuments'), { recursive: true });
  const missing = names.filter((n) => !existsSync(packumentFile(work, n)));
  await eachLimited(missing, 8, async (name) => {
    const res = await fetch(`${REGISTRY}/${name.replace('/', '%2f')}`, {
      headers: { accept: 'application/json' },
    });
    if (!res.ok) throw new Error(`${name}: HTTP ${res.status}`);
    await writeFile(packumentFile(work, name), await res.text());
  });
}

/**
 * A loopback mirror: the stored packuments with tarball URLs pointing at itself (rewritten once, before the
 * clock starts, in a worker thread, into files it serves as they are: this process also holds the server
 * whose memory is measured), and the stored tarballs. Names it has no packument for (say, optional dependencies for other
 * platforms) are 404, as a registry that does not know them.
 */
export async function startMirror(work: string, entries: Entry[]): Promise<{ url: string; server: Server }> {
  const tarballs = new Map<string, string>();
  for (const e of entries) tarballs.set(`${e.name}@${e.version}`, tarballFile(work, e));
  const packuments = new Map<string, string>();
  const server = createServer((req, res) => {
    void (async () => {
      const path = decodeURIComponent((req.url ?? '/').split('?')[0] ?? '/');
      const t = /^\/-\/t\/(.+)@([^@/]+)\.tgz$/.exec(path);
      if (t) {
        const file = tarballs.get(`${t[1]}@${t[2]}`);
        if (!file) return void res.writeHead(404).end();
        return void res
          .writeHead(200, { 'content-type': 'application/octet-stream' })
          .end(await readFile(file));
      }
      const file = packuments.get(path.slice(1));
      if (file === undefined)
        return void res.writeHead(404, { 'content-type': 'application/json' }).end('{}');
      res.writeHead(200, { 'content-type': 'application/json' }).end(await readFile(file));
    })().catch((error: unknown) => res.writeHead(500).end(String(error)));
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  await rm(join(work, 'mirror'), { recursive: true, force: true });
  await mkdir(join(work, 'mirror'), { recursive: true });
  const files = [...new Set(entries.map((e) => e.name))].map((name) => ({
    name,
    from: packumentFile(work, name),
    to: join(work, 'mirror', `${encodeURIComponent(name)}.json`),
  }));
  await rewritePackuments({ base, files });
  for (const { name, to } of files) packuments.set(name, to);
  return { url: base, server };
}

/** The lockfile's graph as `scan` submits it, without the packages npm ci skips on this platform. */
export function graphOf(lock: Lockfile, entries: Entry[]): DependencyGraph {
  const graph = graphFromLockfileData(lock as Record<string, unknown>);
  const keep = new Set(entries.map((e) => e.path));
  const nodes = graph.nodes.filter((n) => keep.has(n.key));
  return {
    ...graph,
    nodes,
    edges: graph.edges.filter((e) => keep.has(e.to) && (e.from === '' || keep.has(e.from))),
  };
}

export async function waitForCompletion(
  url: string,
  onEvent: (event: ScanEvent) => void = () => undefined,
): Promise<void> {
  const res = await fetch(url, { headers: { accept: 'text/event-stream' } });
  if (!res.ok || !res.body) throw new Error(`${url}: HTTP ${res.status}`);
  const parser = new SseParser();
  const decoder = new TextDecoder();
  for await (const chunk of res.body as AsyncIterable<Uint8Array>)
    for (const message of parser.push(decoder.decode(chunk, { stream: true }))) {
      if (message.data) onEvent(JSON.parse(message.data) as ScanEvent);
      if (message.event === 'scan.completed') {
        await res.body.cancel().catch(() => undefined);
        return;
      }
    }
  throw new Error(`${url}: the stream ended before the scan completed`);
}
