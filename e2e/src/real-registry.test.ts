import { strict as assert } from 'node:assert';
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { describeResult, makeCliHome, runCli } from './support/cli.js';
import { SHARED_FIXTURES_DIR } from './support/paths.js';
import { parseScanJson, stateOf } from './support/scan-json.js';

const LOCKFILE = path.join(SHARED_FIXTURES_DIR, 'lockfiles', 'npm-cli-v3.package-lock.json');

// The one e2e test that talks to the real npm registry (registry.npmjs.org): a cold scan of the
// npm/cli lockfile (~1,274 packages) in local mode with the default upstream.
test(
  'scans the real npm/cli lockfile against the npm registry: every package decided',
  { timeout: 40 * 60_000 },
  async () => {
    const text = await readFile(LOCKFILE, 'utf8');
    const lock = JSON.parse(text) as { packages: Record<string, Record<string, unknown>> };
    const entries = Object.keys(lock.packages).filter((key) => key !== '');
    const dir = await mkdtemp(path.join(os.tmpdir(), 'sr-e2e-real-'));
    try {
      await copyFile(LOCKFILE, path.join(dir, 'package-lock.json'));
      await writeFile(path.join(dir, 'package.json'), JSON.stringify(lock.packages[''], null, 2));
      const home = await makeCliHome();
      const result = await runCli(['scan', dir, '--json'], { home, timeoutMs: 35 * 60_000 });
      assert.ok(result.code === 0 || result.code === 1 || result.code === 2, describeResult(result));
      const json = parseScanJson(result);
      assert.ok(
        json.packages.length >= entries.length * 0.95 && json.packages.length <= entries.length * 1.05,
        `${json.packages.length} packages in the result for ${entries.length} lockfile entries`,
      );
      const undecided = json.packages.filter((p) => ['pending', 'analyzing', undefined].includes(stateOf(p)));
      assert.deepEqual(
        undecided.map((p) => `${p.name}@${p.version}:${stateOf(p)}`),
        [],
        'packages left undecided',
      );
      const registryEntries = json.packages.filter((p) => stateOf(p) !== 'unvettable');
      assert.ok(
        registryEntries.every((p) => typeof p.integrity === 'string' && p.integrity.startsWith('sha')),
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  },
);
