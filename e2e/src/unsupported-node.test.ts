import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import type { SpawnSyncReturns } from 'node:child_process';
import { existsSync, realpathSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { CLI_BIN, REPO_ROOT } from './support/paths.js';
import { SERVER_BIN } from './support/server-process.js';

// Every way to start a command on a Node.js the project does not support (the machine's own Node
// outside the repository, e.g. Node 20) prints one line naming the required version and exits 3:
// the published bins and the built entry points run directly with `node`.

/** The first `node` on PATH outside any node_modules whose version is unsupported, or undefined. */
function unsupportedNode(): { path: string; version: string } | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const candidate = path.join(dir, 'node');
    if (!dir || dir.includes('node_modules') || !existsSync(candidate)) continue;
    const real = realpathSync(candidate);
    const run = spawnSync(real, ['-p', 'process.versions.node'], { encoding: 'utf8' });
    const version = run.stdout.trim();
    const [major = 0, minor = 0] = version.split('.').map(Number);
    // The required 22.12.0 (bin-shim.js in @secure-registry/shared).
    if (run.status === 0 && (major < 22 || (major === 22 && minor < 12))) return { path: real, version };
  }
  return undefined;
}

test('on an unsupported Node every entry point prints one line and exits 3', (t) => {
  const old = unsupportedNode();
  if (!old) {
    t.skip('no unsupported Node.js on PATH outside node_modules');
    return;
  }
  const entries = [
    ['secure-registry', CLI_BIN],
    ['secure-registry', path.join(REPO_ROOT, 'packages', 'cli', 'bin', 'secure-registry.js')],
    ['secure-registry-server', SERVER_BIN],
    [
      'secure-registry-server',
      path.join(REPO_ROOT, 'packages', 'server', 'bin', 'secure-registry-server.js'),
    ],
  ] as const;
  for (const [program, entry] of entries) {
    for (const args of [['--help'], ['scan', '.']]) {
      const run: SpawnSyncReturns<string> = spawnSync(old.path, [entry, ...args], {
        encoding: 'utf8',
        cwd: REPO_ROOT,
      });
      const what: string = `${old.path} ${path.relative(REPO_ROOT, entry)} ${args.join(' ')}`;
      assert.equal(run.status, 3, `${what}: ${run.stderr}`);
      assert.equal(run.stdout, '', what);
      assert.equal(
        run.stderr,
        `${program}: needs Node.js 22.12.0 or later with node:sqlite (24 LTS recommended); this is Node.js ${old.version} (${old.path})\n`,
        what,
      );
    }
  }
});
