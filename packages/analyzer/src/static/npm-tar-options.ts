import { basename } from 'node:path';
import type { ReadEntry } from 'tar';
import { isAbsoluteLike, symlinkStaysInside } from './entry-path.js';
import type { ExtractionIssue } from './types.js';

/**
 * npm's extraction options, as pacote (lib/fetcher.js `#tarxOptions`, `#entryMode`, pacote 21 in
 * npm 11) passes them to node-tar, plus a hook that sees every entry first (our flags and limits).
 * The differential test compares the result with pacote's own extraction.
 */

/** pacote's lib/util/is-package-bin.js: whether an entry path (with its top directory) is a bin. */
export function isPackageBin(pkg: Record<string, unknown> | undefined, path: string): boolean {
  if (!pkg?.bin) return false;
  const bin: unknown = typeof pkg.bin === 'string' ? { [String(pkg.name)]: pkg.bin } : pkg.bin;
  const p = path.replace(/^[^\\/]*\//, '');
  return Object.values(bin as object).some((target) => target === p);
}

const FMODE = 0o666;
const DMODE = 0o777;
const UMASK = 0;

/** pacote's `#entryMode`: at least fmode/dmode, owner read/write, bins executable. */
function entryMode(pkg: Record<string, unknown> | undefined, entry: ReadEntry): number {
  const m = /Directory|GNUDumpDir/.test(entry.type) ? DMODE : /File$/.test(entry.type) ? FMODE : 0;
  const exe = isPackageBin(pkg, entry.path) ? 0o111 : 0;
  return (((entry.mode ?? 0) | m) & ~UMASK) | exe | 0o600;
}

/** What the hook decides for an entry before npm's own filter runs. */
export type EntryVerdict = 'continue' | 'drop';

export interface NpmTarOptionsInput {
  cwd: string;
  /** The packument's manifest of this version, as pacote's registry fetcher holds it. */
  manifest?: Record<string, unknown> | undefined;
  /** Sees each entry (raw path, before npm's filter and strip); may drop it (limits). */
  inspect: (entry: ReadEntry) => EntryVerdict;
  /** Called for each entry npm's filter lets through (its path may have been renamed). */
  accepted: (entry: ReadEntry) => void;
  onwarn: (code: string, message: string) => void;
}

/** The options pacote gives `tar.x`, with `inspect` in front of its filter. */
export function npmTarOptions(input: NpmTarOptionsInput) {
  const sawIgnores = new Set<string>();
  return {
    cwd: input.cwd,
    noChmod: true,
    noMtime: true,
    filter: (_name: string, entry: ReadEntry | unknown): boolean => {
      const e = entry as ReadEntry;
      if (input.inspect(e) === 'drop') return false;
      if (/Link$/.test(e.type)) return false;
      e.mode = entryMode(input.manifest, e);
      if (/File$/.test(e.type)) {
        const base = basename(e.path);
        if (base === '.npmignore') {
          sawIgnores.add(e.path);
        } else if (base === '.gitignore') {
          // npm pack treats .gitignore as .npmignore when there is none; pacote renames it
          const ni = e.path.replace(/\.gitignore$/, '.npmignore');
          if (sawIgnores.has(ni)) return false;
          e.path = ni;
        }
        input.accepted(e);
        return true;
      }
      return false;
    },
    strip: 1,
    onwarn: input.onwarn,
    umask: UMASK,
    preserveOwner: false,
  };
}

/** node-tar's strip: 1 on Linux: split on `/` only (backslashes are ordinary characters). */
export function strippedPath(raw: string): string | null {
  const parts = raw.split('/');
  if (parts.length < 2) return null;
  return parts.slice(1).join('/');
}

/**
 * Flags an entry that npm on some platform or another tar reader would read differently, or that
 * only a hostile archive contains. The file set still comes from npm's extraction.
 */
export function entryIssue(entry: { path: string; type: string; linkpath?: string }): ExtractionIssue | null {
  const { path, type } = entry;
  if (path.includes('\\')) {
    return {
      kind: 'ambiguous',
      path,
      detail: 'backslash in an entry path: npm on Windows splits the path there, npm on Linux does not',
    };
  }
  if (isAbsoluteLike(path)) return { kind: 'absolute-path', path, detail: 'absolute entry path' };
  if (path.split('/').includes('..')) {
    return { kind: 'path-escape', path, detail: 'entry path contains ".."' };
  }
  if (type === 'SymbolicLink' || type === 'Link') {
    const target = entry.linkpath ?? '';
    const stripped = strippedPath(path);
    const linkStripped = type === 'Link' ? strippedPath(target) : null;
    const inside =
      type === 'SymbolicLink'
        ? stripped !== null && symlinkStaysInside(stripped, target)
        : linkStripped !== null && !isAbsoluteLike(target) && !linkStripped.split(/[/\\]/).includes('..');
    if (!inside) {
      const what = type === 'SymbolicLink' ? 'symbolic' : 'hard';
      return { kind: 'link-outside', path, detail: `${what} link to ${target} points outside the package` };
    }
    return null;
  }
  if (type === 'CharacterDevice' || type === 'BlockDevice' || type === 'FIFO') {
    const what = type === 'FIFO' ? 'FIFO' : 'device file';
    return { kind: 'special-file', path, detail: `${what} in the archive` };
  }
  return null;
}
