import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import * as tar from 'tar';

/** Test helpers: real tarballs built with the `tar` package from real temporary directories. */

export type FileSpec = string | Buffer | { symlink: string };

/**
 * Packs `files` (package-relative paths) under `package/` like `npm pack`. Hostile extras, packed
 * with preservePaths: `escape` adds an entry `../escape.txt`, `absolute` an entry with an absolute path.
 */
export async function makeTarball(
  files: Record<string, FileSpec>,
  hostile: { escape?: boolean; absolute?: boolean } = {},
): Promise<Buffer> {
  const root = await mkdtemp(join(tmpdir(), 'sr-static-'));
  try {
    const pkg = join(root, 'work', 'package');
    await mkdir(pkg, { recursive: true });
    for (const [path, spec] of Object.entries(files)) {
      const target = join(pkg, path);
      await mkdir(dirname(target), { recursive: true });
      if (typeof spec === 'object' && !Buffer.isBuffer(spec)) await symlink(spec.symlink, target);
      else await writeFile(target, spec);
    }
    const entries = ['package'];
    if (hostile.escape) {
      await writeFile(join(root, 'escape.txt'), 'escaped\n');
      entries.push('../escape.txt');
    }
    if (hostile.absolute) {
      await writeFile(join(root, 'absolute.txt'), 'absolute\n');
      entries.push(join(root, 'absolute.txt'));
    }
    const stream = tar.c(
      { gzip: true, cwd: join(root, 'work'), portable: true, preservePaths: true },
      entries,
    );
    const chunks: Buffer[] = [];
    for await (const chunk of stream as AsyncIterable<Buffer>) chunks.push(chunk);
    return Buffer.concat(chunks);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

/** A gzipped tar built entry by entry with tar's Header encoder, for entries no directory can hold. */
export function makeRawTarball(
  entries: { path: string; type?: string; body?: string; linkpath?: string }[],
): Buffer {
  const blocks: Buffer[] = [];
  for (const entry of entries) {
    const body = Buffer.from(entry.body ?? '');
    const header = new tar.Header({
      path: entry.path,
      type: (entry.type ?? 'File') as tar.Header['type'],
      size: body.length,
      mode: 0o644,
      mtime: new Date(0),
      ...(entry.linkpath !== undefined ? { linkpath: entry.linkpath } : {}),
    });
    const block = Buffer.alloc(512);
    header.encode(block, 0);
    blocks.push(block, body, Buffer.alloc((512 - (body.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return gzipSync(Buffer.concat(blocks));
}

export function packageJson(manifest: Record<string, unknown>): string {
  return JSON.stringify({ name: 'demo', version: '1.0.1', ...manifest }, null, 2);
}
