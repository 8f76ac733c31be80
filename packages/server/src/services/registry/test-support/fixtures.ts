/** Test helpers: real npm-style tarballs (ustar + gzip) and artifact records. */
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import type { ArtifactRecord } from '../../../storage/store.js';

function header(path: string, size: number, type = '0'): Buffer {
  const block = Buffer.alloc(512);
  block.write(path, 0, 100, 'utf8');
  block.write('0000644\0', 100, 'ascii');
  block.write('0000000\0', 108, 'ascii');
  block.write('0000000\0', 116, 'ascii');
  block.write(`${size.toString(8).padStart(11, '0')}\0`, 124, 'ascii');
  block.write('00000000000\0', 136, 'ascii');
  block.write('        ', 148, 'ascii');
  block.write(type, 156, 'ascii');
  block.write('ustar\0', 257, 'ascii');
  block.write('00', 263, 'ascii');
  let sum = 0;
  for (const byte of block) sum += byte;
  block.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii');
  return block;
}

function pad(body: Buffer): Buffer {
  const rest = body.length % 512;
  return rest === 0 ? body : Buffer.concat([body, Buffer.alloc(512 - rest)]);
}

/** A gzipped tarball of `files` (path → content) under `package/`, as `npm pack` lays it out. */
export function makeTarball(files: Record<string, string>, options: { paxPaths?: boolean } = {}): Buffer {
  const parts: Buffer[] = [];
  for (const [path, content] of Object.entries(files)) {
    const body = Buffer.from(content, 'utf8');
    const fullPath = `package/${path}`;
    if (options.paxPaths) {
      const record = ` path=${fullPath}\n`;
      let length = record.length + 1;
      while (String(length).length + record.length !== length) length = String(length).length + record.length;
      const pax = Buffer.from(`${length}${record}`, 'utf8');
      parts.push(header('PaxHeader/x', pax.length, 'x'), pad(pax));
      parts.push(header('placeholder-name', body.length), pad(body));
    } else {
      parts.push(header(fullPath, body.length), pad(body));
    }
  }
  parts.push(Buffer.alloc(1024));
  return gzipSync(Buffer.concat(parts));
}

/** A package tarball with a package.json for `name@version` (plus extra manifest fields). */
export function makePackageTarball(
  name: string,
  version: string,
  extra: Record<string, unknown> = {},
): Buffer {
  return makeTarball({
    'package.json': JSON.stringify({ name, version, ...extra }, null, 2),
    'index.js': `module.exports = ${JSON.stringify(`${name}@${version}`)};\n`,
  });
}

export function sha512Integrity(bytes: Uint8Array): string {
  return `sha512-${createHash('sha512').update(bytes).digest('base64')}`;
}

/** An artifact record as the store returns it. */
export function artifact(
  name: string,
  version: string,
  fields: Partial<Omit<ArtifactRecord, 'name' | 'version'>> = {},
): ArtifactRecord {
  return {
    name,
    version,
    integrity: fields.integrity ?? `sha512-${Buffer.from(`${name}@${version}`).toString('base64')}`,
    verdict: fields.verdict ?? 'approved',
    reason: fields.reason,
    findings: fields.findings ?? [],
    reports: fields.reports ?? {},
    ruleSetVersion: fields.ruleSetVersion,
    storagePath:
      'storagePath' in fields ? fields.storagePath : `sha512/aa/${name.replace('/', '_')}-${version}.tgz`,
    decidedAt: fields.decidedAt ?? '2025-01-01T00:00:00.000Z',
    createdAt: fields.createdAt ?? '2025-01-01T00:00:00.000Z',
  };
}
