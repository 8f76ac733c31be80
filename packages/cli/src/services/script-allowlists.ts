// The install-script allow-lists of each client, written from decisions (./install-scripts.ts).
// Checked with the real clients (e2e scripts-allowlist.test):
// - npm 11 (11.19.1): package.json `allowScripts`, `{ "name@1.2.3": true | false }` (exact versions;
//   a package not listed still runs its scripts, with a warning, unless `strict-allow-scripts`), so
//   every denied package is listed `false`.
// - pnpm 11+ (12.21.0): pnpm-workspace.yaml `allowBuilds`, `{ "name@1.2.3": true | false }`; it
//   ignores `onlyBuiltDependencies`, and fails the install on a build not listed. pnpm 10 (10.34.9)
//   reads both; for a project that says it uses pnpm 10 (`packageManager`), `onlyBuiltDependencies`
//   (the allowed ones; pnpm 10 skips the others).
// - Yarn Berry (4.18.1): package.json `dependenciesMeta["name@1.2.3"].built`; a package not listed
//   builds, so the denied ones are listed `false`. Yarn classic has no such setting.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import yaml from 'js-yaml';
import { UserError } from '@secure-registry/shared';
import type { ScriptDecision } from './install-scripts.js';

export const SCRIPT_CLIENTS = ['npm', 'pnpm', 'yarn'] as const;
export type ScriptClient = (typeof SCRIPT_CLIENTS)[number];

/** One file as it is and as the allow-list makes it (`before` undefined: the file does not exist). */
export interface FileChange {
  path: string;
  client: ScriptClient;
  before: string | undefined;
  after: string;
  /** What the file now says, in one line. */
  setting: string;
}

type Json = Record<string, unknown>;

/** The package name of an allow-list key (`name`, `name@1.2.3`, `@scope/name@1.2.3`). */
function keyName(key: string): string {
  const at = key.lastIndexOf('@');
  return at > 0 ? key.slice(0, at) : key;
}

/** `existing` without the entries for `names` (any version), then `entries`, sorted by key. */
function replaceEntries<V>(existing: unknown, names: ReadonlySet<string>, entries: Record<string, V>) {
  const kept = Object.entries(isRecord(existing) ? existing : {}).filter(([k]) => !names.has(keyName(k)));
  return Object.fromEntries([...kept, ...Object.entries(entries)].sort(([a], [b]) => (a < b ? -1 : 1)));
}

function isRecord(value: unknown): value is Json {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function idOf(d: ScriptDecision): string {
  return `${d.name}@${d.version}`;
}

async function readText(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

function parseManifest(path: string, text: string): Json {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new UserError('ERR_SR_BAD_MANIFEST', `${path} is not valid JSON: ${(error as Error).message}`);
  }
  if (!isRecord(json)) throw new UserError('ERR_SR_BAD_MANIFEST', `${path} is not a JSON object`);
  return json;
}

/** package.json rewritten with the file's own indentation and final newline. */
function formatManifest(original: string, json: Json): string {
  const indent = /^[ \t]+(?=")/m.exec(original)?.[0] ?? '  ';
  return `${JSON.stringify(json, null, indent)}${original.endsWith('\n') ? '\n' : ''}`;
}

/** The pnpm major version a project declares (`packageManager: "pnpm@10.x"`), if it does. */
function declaredPnpmMajor(manifest: Json): number | undefined {
  const pm = manifest.packageManager;
  const match = typeof pm === 'string' ? /^pnpm@(\d+)\./.exec(pm) : null;
  return match ? Number(match[1]) : undefined;
}

/** The files each client's allow-list lives in, with their new contents. */
export async function planAllowlists(
  dir: string,
  clients: readonly ScriptClient[],
  decisions: readonly ScriptDecision[],
): Promise<FileChange[]> {
  const manifestPath = join(dir, 'package.json');
  const manifestText = await readText(manifestPath);
  if (manifestText === undefined) throw new UserError('ERR_SR_NO_MANIFEST', `no package.json in ${dir}`);
  let manifest = parseManifest(manifestPath, manifestText);
  const names = new Set(decisions.map((d) => d.name));
  const allowed = decisions.filter((d) => d.allowed).map(idOf);
  const all = Object.fromEntries(decisions.map((d) => [idOf(d), d.allowed]));
  const count = `${allowed.length} allowed, ${decisions.length - allowed.length} denied`;
  const changes: FileChange[] = [];

  if (clients.includes('npm')) {
    manifest = { ...manifest, allowScripts: replaceEntries(manifest.allowScripts, names, all) };
    changes.push({
      path: manifestPath,
      client: 'npm',
      before: manifestText,
      after: '',
      setting: `allowScripts (${count})`,
    });
  }
  if (clients.includes('yarn')) {
    const meta = isRecord(manifest.dependenciesMeta) ? manifest.dependenciesMeta : {};
    const entries = Object.fromEntries(
      decisions.map((d) => {
        const own = meta[idOf(d)];
        return [idOf(d), { ...(isRecord(own) ? own : {}), built: d.allowed }];
      }),
    );
    // Other keys' settings (optional, unplugged) stay; only `built` of the managed names changes.
    const kept = Object.fromEntries(
      Object.entries(meta).flatMap(([key, value]) => {
        if (!names.has(keyName(key)) || key in entries) return [[key, value]];
        if (!isRecord(value)) return [];
        const { built: _built, ...rest } = value;
        return Object.keys(rest).length > 0 ? [[key, rest]] : [];
      }),
    );
    manifest = { ...manifest, dependenciesMeta: replaceEntries(kept, new Set(), entries) };
    changes.push({
      path: manifestPath,
      client: 'yarn',
      before: manifestText,
      after: '',
      setting: `dependenciesMeta.*.built (${count})`,
    });
  }
  if (clients.includes('pnpm')) {
    const major = declaredPnpmMajor(manifest);
    if (major !== undefined && major <= 10) {
      const list = isRecord(manifest.pnpm) ? manifest.pnpm.onlyBuiltDependencies : undefined;
      const kept = (Array.isArray(list) ? list : []).filter(
        (k): k is string => typeof k === 'string' && !names.has(keyName(k)),
      );
      manifest = {
        ...manifest,
        pnpm: {
          ...(isRecord(manifest.pnpm) ? manifest.pnpm : {}),
          onlyBuiltDependencies: [...kept, ...allowed].sort(),
        },
      };
      changes.push({
        path: manifestPath,
        client: 'pnpm',
        before: manifestText,
        after: '',
        setting: `pnpm.onlyBuiltDependencies for pnpm ${major} (${count})`,
      });
    } else {
      const path = join(dir, 'pnpm-workspace.yaml');
      const before = await readText(path);
      let doc: unknown = {};
      try {
        doc = before === undefined ? {} : (yaml.load(before) ?? {});
      } catch (error) {
        throw new UserError('ERR_SR_BAD_MANIFEST', `${path} is not valid YAML: ${(error as Error).message}`);
      }
      if (!isRecord(doc)) throw new UserError('ERR_SR_BAD_MANIFEST', `${path} is not a YAML mapping`);
      const next = { ...doc, allowBuilds: replaceEntries(doc.allowBuilds, names, all) };
      changes.push({
        path,
        client: 'pnpm',
        before,
        after: yaml.dump(next, { lineWidth: -1, quotingType: '"' }),
        setting: `allowBuilds (${count})`,
      });
    }
  }
  // The manifest's changes are one new file, whichever clients made them.
  const manifestAfter = formatManifest(manifestText, manifest);
  for (const change of changes) if (change.path === manifestPath) change.after = manifestAfter;
  return changes;
}
