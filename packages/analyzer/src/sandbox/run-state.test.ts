import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { LoadBudget } from '@secure-registry/shared';
import { unmount } from './host-ops.js';
import { createRunDirs, sweepAbandonedRuns } from './run-state.js';

const RUN_STATE = fileURLToPath(new URL('./run-state.js', import.meta.url));
const isMounted = (dir: string): boolean => readFileSync('/proc/self/mounts', 'utf8').includes(` ${dir} `);

test("a SIGKILLed owner's run state (tmpfs and host directory) is swept; a live owner's is kept", async (t) => {
  if (process.getuid?.() !== 0) return t.skip('needs root to mount a tmpfs');
  // A process that stages a run and is then killed with SIGKILL, as a server mid-analysis would be.
  const child = spawn(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      `const { createRunDirs } = await import(${JSON.stringify(RUN_STATE)});
       const dirs = await createRunDirs('sweeptest' + process.pid, 8, []);
       console.log(JSON.stringify(dirs));
       setInterval(() => {}, 1000);`,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const line = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('\n')) resolve(out.trim());
    });
    child.once('exit', (code) => reject(new Error(`the owner exited early (${code})`)));
  });
  const orphan = JSON.parse(line) as { hostDir: string; runRoot: string; mounted: boolean };
  assert.ok(orphan.mounted && isMounted(orphan.runRoot));
  const mine = await createRunDirs(`sweeplive${process.pid}`, 8, []);
  try {
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    // The kernel reaps the killed process at its own pace on a loaded machine.
    const budget = new LoadBudget(5_000);
    while (existsSync(`/proc/${child.pid}`) && !budget.expired()) await new Promise((r) => setTimeout(r, 20));

    const { removed } = await sweepAbandonedRuns();
    assert.ok(removed.includes(orphan.runRoot) && removed.includes(orphan.hostDir), JSON.stringify(removed));
    assert.equal(isMounted(orphan.runRoot), false, 'the orphaned tmpfs is unmounted');
    assert.equal(existsSync(orphan.runRoot), false);
    assert.equal(existsSync(orphan.hostDir), false, 'the CA key and sink logs went with it');
    assert.ok(isMounted(mine.runRoot) && existsSync(mine.hostDir), "a live owner's run is left alone");
    assert.ok(!removed.includes(mine.runRoot));
  } finally {
    if (mine.mounted) await unmount(mine.runRoot);
    await rm(mine.runRoot, { recursive: true, force: true });
    await rm(mine.hostDir, { recursive: true, force: true });
  }
});
