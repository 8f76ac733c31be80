// What the install phase needs to build a package with a binding.gyp as npm does (`node-gyp rebuild`)
// with no internet: npm's node-gyp shim on PATH, and node-gyp's header cache already filled from
// the Node that runs in the sandbox. Plus the check that tells a build that reached gyp (the
// package's gyp code ran) from one the sandbox itself kept from starting.
import { readFileSync, realpathSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { TraceEvent, TraceEventOf } from '@secure-registry/shared';
import type { Persona, SandboxFile } from './layout.js';
import { NPM_DIR_IN_SANDBOX } from './sandbox-env.js';

/**
 * An install phase that compiles (node-gyp) gets this many times the phase timeout: compiling a
 * bundled C library takes minutes on a loaded machine, and a timeout holds the package.
 */
export const NATIVE_BUILD_TIMEOUT_FACTOR = 5;

/** npm's `node-gyp` on a lifecycle script's PATH (@npmcli/run-script/lib/node-gyp-bin/node-gyp). */
export const NODE_GYP_SHIM = {
  path: 'node_modules/@npmcli/run-script/lib/node-gyp-bin/node-gyp',
  content: '#!/usr/bin/env sh\nnode "$npm_config_node_gyp" "$@"\n',
};

/** node-gyp's `installVersion` (its package.json): a header cache older than this is re-downloaded. */
const NODE_GYP_INSTALL_VERSION = 11;

export interface NodeHeaders {
  /** `<prefix>/include/node` on the host. */
  hostDir: string;
  /** `24.21.0`: the version directory node-gyp looks for in its cache. */
  version: string;
}

const headersCache = new Map<string, NodeHeaders | undefined>();

/**
 * The headers of the Node binary at `nodePath`: `<prefix>/include/node` (the official tarballs and
 * distribution packages), or, for the `node` npm package (whose bin/node is a hard link to
 * node_modules/node-<platform>-<arch>/bin/node), that package's include/node. Only headers whose
 * node_version.h declares the version node-gyp will build for (the sandbox Node's) are used;
 * undefined when there are none.
 */
export function nodeHeaders(nodePath: string, nodeVersion: string): NodeHeaders | undefined {
  const key = `${nodePath}\0${nodeVersion}`;
  if (headersCache.has(key)) return headersCache.get(key);
  let found: NodeHeaders | undefined;
  let prefix: string | undefined;
  try {
    prefix = dirname(dirname(realpathSync(nodePath)));
  } catch {
    prefix = undefined;
  }
  const candidates =
    prefix === undefined
      ? []
      : [
          join(prefix, 'include', 'node'),
          join(prefix, 'node_modules', `node-${process.platform}-${process.arch}`, 'include', 'node'),
        ];
  for (const hostDir of candidates) {
    try {
      const version = headerVersion(readFileSync(join(hostDir, 'node_version.h'), 'utf8'));
      if (`v${version}` === nodeVersion && statSync(join(hostDir, 'common.gypi')).isFile()) {
        found = { hostDir, version: nodeVersion.slice(1) };
        break;
      }
    } catch {
      // not this layout
    }
  }
  headersCache.set(key, found);
  return found;
}

export function headerVersion(nodeVersionH: string): string | undefined {
  const part = (name: string): string | undefined =>
    new RegExp(`^#define NODE_${name}_VERSION (\\d+)`, 'm').exec(nodeVersionH)?.[1];
  const [major, minor, patch] = [part('MAJOR'), part('MINOR'), part('PATCH')];
  return major && minor && patch ? `${major}.${minor}.${patch}` : undefined;
}

/**
 * node-gyp's header cache in the persona's home (`~/.cache/node-gyp/<version>`, env-paths' default),
 * as a developer who has built a native addon before has it: the `installVersion` marker as a file,
 * and `include/node` where the host's headers are bound read-only.
 */
export function nodeGypCache(
  persona: Persona,
  headers: NodeHeaders,
): { files: SandboxFile[]; bind: { hostDir: string; path: string } } {
  const dir = `${persona.home}/.cache/node-gyp/${headers.version}`;
  return {
    files: [{ path: `${dir}/installVersion`, content: `${NODE_GYP_INSTALL_VERSION}\n` }],
    bind: { hostDir: headers.hostDir, path: `${dir}/include/node` },
  };
}

const NODE_GYP_JS = `${NPM_DIR_IN_SANDBOX}/node_modules/node-gyp/bin/node-gyp.js`;

/**
 * Why a failed install phase is not evidence about the package: node-gyp ran (`rebuild` or
 * `configure`) but gyp itself (gyp_main.py, where binding.gyp's command expansions run) never
 * started — no Python, no headers, no compiler in the sandbox. The package's build code never ran,
 * so the run proves nothing (fail closed). Undefined when the build reached gyp or none was run.
 */
export function gypNotReached(events: TraceEvent[], exitCode: number | undefined): string | undefined {
  if (exitCode === 0 || exitCode === undefined) return undefined;
  const processes = events.filter((e): e is TraceEventOf<'process'> => e.kind === 'process');
  const builds = processes.filter(
    (e) => e.argv.includes(NODE_GYP_JS) && (e.argv.includes('rebuild') || e.argv.includes('configure')),
  );
  if (builds.length === 0) return undefined;
  if (processes.some((e) => e.argv.some((a) => a.endsWith('/gyp_main.py')))) return undefined;
  return `node-gyp ran (${builds[0]!.argv.slice(1).join(' ').slice(0, 200)}) but gyp never started: the build could not run in the sandbox`;
}
