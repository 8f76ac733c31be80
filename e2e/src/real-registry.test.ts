import { strict as assert } from 'node:assert';
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { describeResult, makeCliHome, runCli } from './support/cli.js';
import { LOCKFILE_FIXTURES_DIR } from './support/paths.js';
import { parseScanJson, stateOf } from './support/scan-json.js';

const LOCKFILE = path.join(LOCKFILE_FIXTURES_DIR, 'npm-cli-v3.package-lock.json');

interface LockEntry {
  name?: string;
  version?: string;
  link?: boolean;
  inBundle?: boolean;
}

/**
 * `name@version` of every installed lockfile package that is its own artifact: links are listed
 * by their target, workspace folders (no `node_modules/` in the key) are the links' targets, and
 * bundled dependencies ship inside their parent's tarball.
 */
function lockfilePackages(packages: Record<string, LockEntry>): Set<string> {
  const ids = new Set<string>();
  for (const [key, entry] of Object.entries(packages)) {
    if (!key.includes('node_modules/') || entry.link || entry.inBundle) continue;
    const name = entry.name ?? key.slice(key.lastIndexOf('node_modules/') + 'node_modules/'.length);
    ids.add(`${name}@${entry.version}`);
  }
  return ids;
}

// The one e2e test that talks to the real npm registry (the npm client's configured registry,
// normally registry.npmjs.org): a cold scan of the npm/cli lockfile (1,273 entries) in local mode.
// Static stage only by default: the sandbox runs each of the ~1,040 artifacts for seconds, which
// is hours on a 2-core CI machine. SECURE_REGISTRY_E2E_REAL_SANDBOX=1 runs the full pipeline.
const WITH_SANDBOX = process.env.SECURE_REGISTRY_E2E_REAL_SANDBOX === '1';
test(
  'scans the real npm/cli lockfile against the npm registry: every package decided',
  { timeout: (WITH_SANDBOX ? 610 : 40) * 60_000 },
  async () => {
    const text = await readFile(LOCKFILE, 'utf8');
    const lock = JSON.parse(text) as { packages: Record<string, LockEntry> };
    const entries = Object.keys(lock.packages).filter((key) => key !== '');
    const expected = lockfilePackages(lock.packages);
    const dir = await mkdtemp(path.join(os.tmpdir(), 'sr-e2e-real-'));
    try {
      await copyFile(LOCKFILE, path.join(dir, 'package-lock.json'));
      await writeFile(path.join(dir, 'package.json'), JSON.stringify(lock.packages[''], null, 2));
      const home = await makeCliHome(dir);
      const result = await runCli(['scan', dir, '--json'], {
        home,
        timeoutMs: (WITH_SANDBOX ? 600 : 35) * 60_000,
        sandbox: WITH_SANDBOX,
      });
      assert.ok(result.code === 0 || result.code === 1 || result.code === 2, describeResult(result));
      const json = parseScanJson(result);
      // Every artifact of the lockfile is in the result (one name@version at several locations
      // may be listed once or per location).
      const listed = new Set(json.packages.map((p) => `${p.name}@${p.version}`));
      assert.deepEqual(
        [...expected].filter((id) => !listed.has(id)),
        [],
        'lockfile packages missing from the result',
      );
      assert.ok(
        json.packages.length >= expected.size && json.packages.length <= entries.length,
        `${json.packages.length} packages for ${expected.size} distinct name@version in ${entries.length} entries`,
      );
      const undecided = json.packages.filter((p) => ['pending', 'analyzing', undefined].includes(stateOf(p)));
      assert.deepEqual(
        undecided.map((p) => `${p.name}@${p.version}:${stateOf(p)}`),
        [],
        'packages left undecided',
      );
      const vetted = json.packages.filter((p) => stateOf(p) !== 'unvettable');
      assert.ok(vetted.length > 1000, `${vetted.length} vetted packages`);
      assert.ok(vetted.every((p) => typeof p.integrity === 'string' && p.integrity.startsWith('sha')));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  },
);
