import type { LifecycleEvent, ManifestSummary } from './types.js';

/** Pure reading of the tarball's package.json: install scripts and import entry points. */

export const INSTALL_EVENTS: LifecycleEvent[] = ['preinstall', 'install', 'postinstall'];
/** Scripts reported for context; only INSTALL_EVENTS run when a registry package is installed. */
const REPORTED_SCRIPTS = [...INSTALL_EVENTS, 'prepare', 'prepublish'];

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function collectExportTargets(value: unknown, out: string[], depth = 0): void {
  if (depth > 10 || out.length > 200) return;
  if (typeof value === 'string') {
    if (!value.includes('*')) out.push(value);
  } else if (Array.isArray(value)) {
    for (const item of value) collectExportTargets(item, out, depth + 1);
  } else if (isRecord(value)) {
    for (const key of Object.keys(value).sort()) collectExportTargets(value[key], out, depth + 1);
  }
}

export function entryPointsOf(manifest: Record<string, unknown>): string[] {
  const out: string[] = [];
  out.push(typeof manifest.main === 'string' && manifest.main !== '' ? manifest.main : 'index.js');
  if (typeof manifest.module === 'string') out.push(manifest.module);
  const browser = manifest.browser;
  if (typeof browser === 'string') out.push(browser);
  else if (isRecord(browser)) {
    for (const key of Object.keys(browser).sort()) {
      const target = browser[key];
      if (typeof target === 'string') out.push(target);
    }
  }
  if (manifest.exports !== undefined) collectExportTargets(manifest.exports, out);
  return [...new Set(out)];
}

export function parseManifest(text: string | undefined, hasBindingGyp: boolean): ManifestSummary {
  const empty: ManifestSummary = { found: false, scripts: {}, hasBindingGyp, entryPoints: [] };
  if (text === undefined) return { ...empty, error: 'package.json missing from the tarball' };
  let parsed: unknown;
  try {
    parsed = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch (error) {
    return {
      ...empty,
      found: true,
      error: `package.json is not valid JSON: ${(error as Error).message.slice(0, 200)}`,
    };
  }
  if (!isRecord(parsed)) return { ...empty, found: true, error: 'package.json is not an object' };
  const scripts: Record<string, string> = {};
  const declared = npmScripts(parsed.scripts);
  for (const event of REPORTED_SCRIPTS) if (declared[event]) scripts[event] = declared[event];
  return {
    found: true,
    ...(typeof parsed.name === 'string' ? { name: parsed.name } : {}),
    ...(typeof parsed.version === 'string' ? { version: parsed.version } : {}),
    scripts,
    hasBindingGyp,
    entryPoints: entryPointsOf(parsed),
    ...(parsed.gypfile === false ? { gypfileDisabled: true } : {}),
  };
}

/** Whether an install command builds with node-gyp (node-pre-gyp and node-gyp-build fall back to it). */
export function runsNodeGyp(command: string): boolean {
  return /\bnode-(?:pre-)?gyp(?:-build)?\b/.test(command);
}

/**
 * `scripts` as npm reads an installed package's package.json (@npmcli/package-json's `scripts`
 * normalisation step): entries that are not strings are dropped; a `scripts` that is not an object
 * is none.
 */
export function npmScripts(value: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!isRecord(value)) return out;
  for (const [key, command] of Object.entries(value)) if (typeof command === 'string') out[key] = command;
  return out;
}

/**
 * The install commands npm runs, as npm 7–11 computes them (@npmcli/arborist rebuild.js and
 * @npmcli/run-script): each of preinstall / install / postinstall that is a non-empty string, plus
 * `node-gyp rebuild` as `install` when `binding.gyp` is a file and neither `install` nor
 * `preinstall` is a non-empty string (npm tests truthiness: `""` does not count, `" "` does).
 *
 * `"gypfile": false` is not an opt-out here: npm honours it only when the manifest comes from the
 * registry (`npm install <pkg>` without a lockfile). A lockfile does not record `gypfile`, so
 * `npm ci` and every install from a lockfile build the package anyway (measured with npm 11.19).
 */
export function installCommands(
  scripts: Record<string, string>,
  hasBindingGyp: boolean,
): { event: LifecycleEvent; command: string; implicit: boolean }[] {
  const out: { event: LifecycleEvent; command: string; implicit: boolean }[] = [];
  for (const event of INSTALL_EVENTS) {
    const command = scripts[event];
    if (command) out.push({ event, command, implicit: false });
  }
  if (hasBindingGyp && !scripts.install && !scripts.preinstall) {
    out.push({ event: 'install', command: 'node-gyp rebuild', implicit: true });
  }
  return out.sort((a, b) => INSTALL_EVENTS.indexOf(a.event) - INSTALL_EVENTS.indexOf(b.event));
}
