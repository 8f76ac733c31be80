// Runs every compiled test file with Node's test runner. Usage: node scripts/run-tests.mjs [filter]
// The optional filter keeps test files whose path contains it (e.g. `storage`).
import { spawnSync } from 'node:child_process';
import { globSync } from 'node:fs';

const filter = process.argv[2];
const files = globSync(['packages/*/dist/**/*.test.js', 'e2e/dist/**/*.test.js'])
  .filter((file) => !filter || file.includes(filter))
  .sort();
if (files.length === 0) {
  console.error(`no test files found${filter ? ` matching ${filter}` : ''}; run the build first`);
  process.exit(1);
}
const result = spawnSync(
  process.execPath,
  ['--test', '--test-concurrency=3', '--test-timeout=600000', '--test-reporter=spec', ...files],
  // Server tests that do not need the sandbox run without it (SR_SANDBOX=off); tests about the sandbox
  // pass their own `sandbox` option to startServer, and SR_SANDBOX=on here runs every test with it.
  {
    stdio: 'inherit',
    env: { ...process.env, SR_SANDBOX: process.env.SR_SANDBOX ?? process.env.SANDBOX ?? 'off' },
  },
);
process.exit(result.status ?? 1);
