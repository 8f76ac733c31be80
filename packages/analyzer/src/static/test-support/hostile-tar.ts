import { gzipSync } from 'node:zlib';

/**
 * Generates hostile package tarballs byte by byte (headers written by hand, so checksums, sizes,
 * types and names can be anything), from a seeded PRNG: the same seed gives the same tarball.
 */

export type Rng = () => number;

/** mulberry32: small, fast, good enough for test generation. */
export function rng(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const pick = <T>(r: Rng, items: readonly T[]): T => items[Math.floor(r() * items.length)] as T;
const chance = (r: Rng, p: number): boolean => r() < p;

const TOPS = [
  'package',
  'package',
  'package',
  'lib\\x',
  'node-v1',
  '.',
  '',
  '..',
  '/package',
  'C:',
  'a\\b',
  'PACKAGE',
  '\\package',
];
const DIRS = ['lib', 'lib\\x', 'Lib', '.', '..', 'caf\u00e9', 'cafe\u0301', 'd'.repeat(90), 'bin', ''];
const NAMES = [
  'index.js',
  'INDEX.js',
  'index.js',
  'package.json',
  '.gitignore',
  '.npmignore',
  'x\\index.js',
  'caf\u00e9.js',
  'cafe\u0301.js',
  'a:b.js',
  'e'.repeat(110),
  'run.sh',
  'index.js/',
  '.',
];
const TYPES = ['0', '0', '0', '0', '\0', '7', '5', '1', '2', '3', '4', '6', 'S', 'V', 'Z', 'g'];
const MODES = [0o644, 0o755, 0o4755, 0o777, 0, 0o100, 0o7777, 0o600, 0o744];

function randomPath(r: Rng): string {
  const parts = [pick(r, TOPS)];
  const depth = Math.floor(r() * 3);
  for (let i = 0; i < depth; i++) parts.push(pick(r, DIRS));
  parts.push(pick(r, NAMES));
  let path = parts.join(chance(r, 0.1) ? '\\' : '/');
  if (chance(r, 0.08)) path = `./${path}`;
  if (chance(r, 0.05)) path = path.replace(/\//g, '//');
  return path;
}

function octal(value: number, width: number): string {
  return `${value.toString(8).padStart(width - 1, '0')}\0`;
}

interface HeaderSpec {
  name: string;
  type: string;
  size: number;
  mode: number;
  linkname?: string;
  prefix?: string;
  magic?: 'ustar' | 'gnu' | 'v7';
  badChecksum?: boolean;
  base256Size?: boolean;
}

export function header(spec: HeaderSpec): Buffer {
  const block = Buffer.alloc(512);
  block.write(spec.name.slice(0, 100), 0, 100, 'utf8');
  block.write(octal(spec.mode & 0o7777777, 8), 100, 'ascii');
  block.write(octal(0, 8), 108, 'ascii');
  block.write(octal(0, 8), 116, 'ascii');
  if (spec.base256Size) {
    block[124] = 0x80;
    block.writeUIntBE(spec.size, 124 + 6, 6);
  } else block.write(octal(spec.size, 12), 124, 'ascii');
  block.write(octal(0, 12), 136, 'ascii');
  block.write(spec.type, 156, 1, 'latin1');
  if (spec.linkname !== undefined) block.write(spec.linkname.slice(0, 100), 157, 100, 'utf8');
  const magic = spec.magic ?? 'ustar';
  if (magic === 'ustar') block.write('ustar\u000000', 257, 'latin1');
  else if (magic === 'gnu') block.write('ustar  \u0000', 257, 'latin1');
  if (spec.prefix && magic === 'ustar') block.write(spec.prefix.slice(0, 155), 345, 155, 'utf8');
  block.fill(0x20, 148, 156);
  let sum = 0;
  for (const byte of block) sum += byte;
  if (spec.badChecksum) sum += 1;
  block.write(octal(sum, 7), 148, 'ascii');
  block[155] = 0x20;
  return block;
}

function pad(length: number): Buffer {
  return Buffer.alloc((512 - (length % 512)) % 512);
}

function paxBody(records: Record<string, string>): Buffer {
  const parts: Buffer[] = [];
  for (const [key, value] of Object.entries(records)) {
    const text = ` ${key}=${value}\n`;
    let len = Buffer.byteLength(text) + 1;
    while (String(len).length + Buffer.byteLength(text) !== len)
      len = String(len).length + Buffer.byteLength(text);
    parts.push(Buffer.from(`${len}${text}`));
  }
  return Buffer.concat(parts);
}

function metaEntry(type: string, body: Buffer, name: string): Buffer[] {
  return [header({ name, type, size: body.length, mode: 0o644 }), body, pad(body.length)];
}

function contentFor(r: Rng, i: number, path: string): Buffer {
  if (path.endsWith('package.json') && chance(r, 0.7)) {
    const bin = chance(r, 0.5)
      ? { bin: pick(r, ['index.js', 'run.sh', { x: 'lib/index.js' }, './index.js']) }
      : {};
    return Buffer.from(JSON.stringify({ name: 'fuzz', version: '1.0.0', ...bin }));
  }
  if (chance(r, 0.05)) return Buffer.alloc(0);
  return Buffer.from(`// entry ${i} ${'x'.repeat(Math.floor(r() * 700))}\n`);
}

/** One random entry (possibly preceded by pax / GNU long-name metadata), as tar blocks. */
function entry(r: Rng, i: number, paths: string[]): Buffer[] {
  const reuse = paths.length > 0 && chance(r, 0.25);
  const path = reuse ? pick(r, paths) : randomPath(r);
  paths.push(path);
  const type = pick(r, TYPES);
  const body = /[07\0]/.test(type) || chance(r, 0.1) ? contentFor(r, i, path) : Buffer.alloc(0);
  const linkname =
    type === '1' || type === '2'
      ? pick(r, ['package/index.js', '../../etc/passwd', '/etc/passwd', 'index.js', 'package/lib'])
      : undefined;
  const blocks: Buffer[] = [];
  const how = r();
  let name = path;
  let prefix: string | undefined;
  if (how < 0.15) {
    const records: Record<string, string> = { path };
    if (linkname !== undefined && chance(r, 0.5)) records.linkpath = linkname;
    if (chance(r, 0.1)) records.size = String(body.length + (chance(r, 0.5) ? 512 : 0));
    blocks.push(...metaEntry('x', paxBody(records), 'PaxHeader/x'));
    name = chance(r, 0.5) ? 'package/decoy.js' : path;
  } else if (how < 0.25) {
    blocks.push(...metaEntry('L', Buffer.from(`${path}\0`), '././@LongLink'));
    if (linkname !== undefined && chance(r, 0.5))
      blocks.push(...metaEntry('K', Buffer.from(`${linkname}\0`), '././@LongLink'));
    name = chance(r, 0.5) ? 'package/decoy.js' : path;
  } else if (how < 0.32 && path.includes('/')) {
    const cut = path.lastIndexOf('/');
    prefix = path.slice(0, cut);
    name = path.slice(cut + 1);
  } else if (how < 0.36) {
    blocks.push(...metaEntry('g', paxBody({ path: randomPath(r) }), 'pax_global_header'));
  }
  const declared = chance(r, 0.03)
    ? body.length + Math.floor(r() * 4096)
    : chance(r, 0.02)
      ? 2 ** 33
      : body.length;
  blocks.push(
    header({
      name,
      type,
      size: declared,
      mode: pick(r, MODES),
      ...(linkname !== undefined ? { linkname } : {}),
      ...(prefix !== undefined ? { prefix } : {}),
      magic: pick(r, ['ustar', 'ustar', 'gnu', 'v7'] as const),
      badChecksum: chance(r, 0.02),
      base256Size: declared === body.length && chance(r, 0.03),
    }),
  );
  blocks.push(body, pad(body.length));
  return blocks;
}

/** A hostile tarball for `seed` (gzipped, sometimes plain, concatenated or with garbage). */
export function hostileTarball(seed: number): Buffer {
  const r = rng(seed);
  const blocks: Buffer[] = [];
  const paths: string[] = [];
  if (chance(r, 0.8)) {
    const pkg = Buffer.from(JSON.stringify({ name: 'fuzz', version: '1.0.0', bin: { fuzz: 'index.js' } }));
    blocks.push(
      header({ name: 'package/package.json', type: '0', size: pkg.length, mode: 0o644 }),
      pkg,
      pad(pkg.length),
    );
    paths.push('package/package.json');
  }
  const count = 1 + Math.floor(r() * 8);
  for (let i = 0; i < count; i++) blocks.push(...entry(r, i, paths));
  const ending = r();
  if (ending < 0.7) blocks.push(Buffer.alloc(1024));
  else if (ending < 0.8) blocks.push(Buffer.alloc(512));
  else if (ending < 0.88) blocks.push(Buffer.alloc(1024), Buffer.alloc(chance(r, 0.5) ? 9216 : 3000));
  else if (ending < 0.94)
    blocks.push(
      Buffer.alloc(1024),
      header({ name: 'package/after-eof.js', type: '0', size: 0, mode: 0o644 }),
    );
  let tar = Buffer.concat(blocks);
  if (chance(r, 0.05)) tar = tar.subarray(0, Math.floor(r() * tar.length));
  if (chance(r, 0.04)) tar = Buffer.concat([tar, Buffer.from('trailing garbage')]);
  const packing = r();
  if (packing < 0.08) return tar;
  if (packing < 0.16) {
    const cut = Math.floor(r() * tar.length);
    return Buffer.concat([gzipSync(tar.subarray(0, cut)), gzipSync(tar.subarray(cut))]);
  }
  const gz = gzipSync(tar);
  if (packing < 0.2) return Buffer.concat([gz, Buffer.from('garbage after gzip')]);
  if (packing < 0.23) return gz.subarray(0, gz.length - 1 - Math.floor(r() * 10));
  return gz;
}
