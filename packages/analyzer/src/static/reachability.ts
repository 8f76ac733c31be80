import { posix } from 'node:path';

/**
 * Pure module reachability inside one package: from entry files, follow relative `require` /
 * `import` / `export … from` specifiers (and self-references by package name) transitively.
 * Bare specifiers of other packages are not followed: their code is analysed as their own artifact.
 */

const SPECIFIER =
  /\brequire\s*\(\s*(['"`])([^'"`\n]{1,300})\1\s*\)|\bimport\s*\(\s*(['"`])([^'"`\n]{1,300})\3\s*\)|\b(?:import|export)\b[^'"`;]{0,500}?\bfrom\s*(['"])([^'"\n]{1,300})\5|\bimport\s*(['"])([^'"\n]{1,300})\7/g;

const MAX_SPECIFIERS_PER_FILE = 5000;
const MAX_REACHABLE = 5000;
const EXTENSIONS = [
  '',
  '.js',
  '.cjs',
  '.mjs',
  '.json',
  '.node',
  '/index.js',
  '/index.cjs',
  '/index.mjs',
  '/index.json',
];

export function extractSpecifiers(text: string): string[] {
  const out: string[] = [];
  SPECIFIER.lastIndex = 0;
  for (
    let match = SPECIFIER.exec(text);
    match && out.length < MAX_SPECIFIERS_PER_FILE;
    match = SPECIFIER.exec(text)
  ) {
    const spec = match[2] ?? match[4] ?? match[6] ?? match[8];
    if (spec) out.push(spec);
  }
  return out;
}

/** Normalises a package-relative path; null when it leaves the package. */
export function normalizeInside(path: string): string | null {
  const normalized = posix.normalize(path.replace(/\\/g, '/')).replace(/^\.\//, '');
  if (normalized === '..' || normalized.startsWith('../') || normalized.startsWith('/')) return null;
  return normalized;
}

/** Resolves a package-relative file the way Node would (extensions, index files, directory main). */
export function resolveFile(
  target: string,
  files: ReadonlySet<string>,
  dirMain?: (dir: string) => string | undefined,
): string | undefined {
  const base = normalizeInside(target);
  if (base === null) return undefined;
  if (base === '.') {
    const main = dirMain?.('.');
    return (main === undefined ? undefined : resolveFile(main, files)) ?? resolveFile('index', files);
  }
  for (const ext of EXTENSIONS) {
    if (files.has(base + ext)) return base + ext;
  }
  const main = dirMain?.(base);
  if (main !== undefined) {
    const inner = normalizeInside(posix.join(base, main));
    if (inner !== null) for (const ext of EXTENSIONS) if (files.has(inner + ext)) return inner + ext;
  }
  return undefined;
}

export interface ReachOptions {
  roots: string[];
  files: ReadonlySet<string>;
  /** Text of a file, when it was kept for scanning. */
  textOf: (path: string) => string | undefined;
  packageName?: string;
  dirMain?: (dir: string) => string | undefined;
}

/** All package files reachable from the roots, roots included, in a stable order. */
export function reachableFiles(options: ReachOptions): string[] {
  const seen = new Set<string>();
  const queue: string[] = [];
  for (const root of options.roots) {
    const resolved = resolveFile(root, options.files, options.dirMain);
    if (resolved && !seen.has(resolved)) {
      seen.add(resolved);
      queue.push(resolved);
    }
  }
  for (let i = 0; i < queue.length && seen.size < MAX_REACHABLE; i++) {
    const file = queue[i]!;
    if (!/\.(?:c|m)?[jt]sx?$/.test(file) && posix.extname(file) !== '') continue;
    const text = options.textOf(file);
    if (text === undefined) continue;
    for (const spec of extractSpecifiers(text)) {
      let target: string | undefined;
      if (spec.startsWith('./') || spec.startsWith('../') || spec === '.' || spec === '..') {
        target = posix.join(posix.dirname(file), spec);
      } else if (options.packageName && spec.startsWith(`${options.packageName}/`)) {
        target = spec.slice(options.packageName.length + 1);
      } else if (options.packageName && spec === options.packageName) {
        target = '.';
      }
      if (target === undefined) continue;
      const resolved = resolveFile(target, options.files, options.dirMain);
      if (resolved && !seen.has(resolved)) {
        seen.add(resolved);
        queue.push(resolved);
      }
    }
  }
  return queue;
}
