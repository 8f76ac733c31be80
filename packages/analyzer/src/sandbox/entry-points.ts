// What to run for each phase, from a package's manifest. Pure: file existence comes from `isFile`.
import { posix } from 'node:path';
import { installCommands, npmScripts } from '../static/manifest.js';

export interface Manifest {
  name?: unknown;
  version?: unknown;
  main?: unknown;
  browser?: unknown;
  exports?: unknown;
  scripts?: unknown;
}

type IsFile = (relativePath: string) => boolean;

/**
 * The lifecycle scripts npm would run on install, in order, with npm's implicit `node-gyp rebuild`
 * (one rule for the static stage and the sandbox: ../static/manifest.ts installCommands).
 */
export function lifecycleScripts(manifest: Manifest, isFile: IsFile): { event: string; script: string }[] {
  return installCommands(npmScripts(manifest.scripts), isFile('binding.gyp')).map((c) => ({
    event: c.event,
    script: c.command,
  }));
}

function normalise(target: string): string | undefined {
  if (target.includes('*')) return undefined;
  const clean = posix.normalize(target).replace(/^\.\//, '');
  if (clean.startsWith('..') || clean.startsWith('/')) return undefined;
  return clean;
}

/** Resolves a require-style path (`lib/x`) to a file the way Node would, or undefined. */
export function resolveFile(target: string, isFile: IsFile): string | undefined {
  const clean = normalise(target);
  if (clean === undefined) return undefined;
  const candidates = [
    clean,
    `${clean}.js`,
    `${clean}.cjs`,
    `${clean}.mjs`,
    `${clean}.json`,
    `${clean}/index.js`,
    `${clean}/index.cjs`,
    `${clean}/index.json`,
  ];
  return candidates.find((c) => c !== '' && c !== '.' && isFile(c));
}

/** Every file target in an `exports` value (all conditions, all subpaths; patterns skipped). */
export function exportTargets(
  exportsField: unknown,
  conditionFilter?: (condition: string) => boolean,
): string[] {
  const out: string[] = [];
  const walk = (value: unknown, depth: number): void => {
    if (depth > 12) return;
    if (typeof value === 'string') out.push(value);
    else if (Array.isArray(value)) value.forEach((v) => walk(v, depth + 1));
    else if (typeof value === 'object' && value !== null) {
      for (const [key, v] of Object.entries(value)) {
        if (!key.startsWith('.') && conditionFilter && !conditionFilter(key)) continue;
        walk(v, depth + 1);
      }
    }
  };
  walk(exportsField, 0);
  return out;
}

/** Files to require()/import() in the import phase (relative to the package root), deduplicated. */
export function importEntries(manifest: Manifest, isFile: IsFile): string[] {
  const targets: string[] = [];
  if (manifest.exports !== undefined) targets.push(...exportTargets(manifest.exports, (c) => c !== 'types'));
  targets.push(typeof manifest.main === 'string' ? manifest.main : 'index.js');
  const files = targets.map((t) => resolveFile(t, isFile)).filter((f): f is string => f !== undefined);
  return [...new Set(files)].filter((f) => /\.(c|m)?js$/.test(f));
}

/** The file a bundler would load for the browser, relative to the package root. */
export function browserEntry(manifest: Manifest, isFile: IsFile): string | undefined {
  const main = typeof manifest.main === 'string' ? manifest.main : 'index.js';
  if (typeof manifest.browser === 'string') return resolveFile(manifest.browser, isFile);
  if (typeof manifest.browser === 'object' && manifest.browser !== null) {
    const map = manifest.browser as Record<string, unknown>;
    const mainFile = resolveFile(main, isFile);
    for (const key of [
      main,
      `./${normalise(main) ?? main}`,
      mainFile,
      mainFile ? `./${mainFile}` : undefined,
    ]) {
      if (key !== undefined && typeof map[key] === 'string') return resolveFile(map[key] as string, isFile);
    }
  }
  if (manifest.exports !== undefined) {
    const root = rootExport(manifest.exports);
    for (const condition of ['browser', 'default', 'import', 'require']) {
      const target = pickCondition(root, condition);
      const file = target === undefined ? undefined : resolveFile(target, isFile);
      if (file) return file;
    }
  }
  return resolveFile(main, isFile);
}

function rootExport(exportsField: unknown): unknown {
  if (typeof exportsField === 'object' && exportsField !== null && !Array.isArray(exportsField)) {
    const obj = exportsField as Record<string, unknown>;
    if (Object.keys(obj).some((k) => k.startsWith('.'))) return obj['.'];
  }
  return exportsField;
}

function pickCondition(value: unknown, condition: string, depth = 0): string | undefined {
  if (depth > 8) return undefined;
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) {
    for (const v of value) {
      const found = pickCondition(v, condition, depth + 1);
      if (found) return found;
    }
    return undefined;
  }
  if (typeof value === 'object' && value !== null) {
    const obj = value as Record<string, unknown>;
    if (condition in obj) return pickCondition(obj[condition], condition, depth + 1);
    if ('default' in obj) return pickCondition(obj.default, condition, depth + 1);
  }
  return undefined;
}
