// Runs INSIDE the sandbox (Node, no project imports: only node builtins, and happy-dom for the browser
// phase). Plays npm (install phase) or an application (import / browser phases). Reports to the host on
// fd 3 as JSON lines; after reporting `done` it stays alive so delayed payloads can fire until the host
// ends the run.
import { spawn } from 'node:child_process';
import { closeSync, createWriteStream, readFileSync } from 'node:fs';
import { browser, loadEntries, networkInFlight, waitAtGate } from './load-entries.js';
import { installTimeWarp, realNow, realTimers, settleTimers } from './time-warp.js';

// fd 4 carried bubblewrap's arguments (../sandbox-process.ts): closed, so nothing of the sandbox's
// making stays open in the package's processes.
try {
  closeSync(4);
} catch {
  // not open (a loader process)
}

export interface RunnerConfig {
  phase: 'install' | 'import' | 'browser';
  packageDir: string;
  projectDir: string;
  scripts: { event: string; script: string }[];
  entries: string[];
  browserEntry?: string;
  happyDomPath: string;
  /** The sandbox's init holds the gate on fd 5 (waitAtGate). */
  gate: boolean;
}

const report = createWriteStream('', { fd: 3 });
const send = (message: object): void => {
  report.write(`${JSON.stringify({ ts: realNow() / 1000, ...message })}\n`);
};
const describe = (error: unknown): string =>
  error instanceof Error ? `${error.name}: ${error.message}` : String(error);

function runScript(event: string, script: string, packageDir: string): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn('sh', ['-c', script], {
      cwd: packageDir,
      stdio: 'inherit',
      env: { ...process.env, npm_lifecycle_event: event, npm_lifecycle_script: script },
    });
    child.on('error', () => resolve(127));
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });
}

async function install(config: RunnerConfig): Promise<number> {
  process.title = 'npm install';
  for (const { event, script } of config.scripts) {
    const code = await runScript(event, script, config.packageDir);
    send({ type: 'script', event, code });
    if (code !== 0) return code;
  }
  return 0;
}

/** Long timers the package set up fire now, on an accelerated clock (time-warp.ts). */
const settle = async (): Promise<void> => {
  const activeResources = process.getActiveResourcesInfo.bind(process);
  const { fired } = await settleTimers(SETTLE_BUDGET_MS, () => networkInFlight(activeResources()));
  if (fired > 0) send({ type: 'timers', fired });
};
const SETTLE_BUDGET_MS = 3_000;

async function main(): Promise<void> {
  const config = JSON.parse(readFileSync(process.argv[2] ?? '', 'utf8')) as RunnerConfig;
  if (config.gate) waitAtGate();
  let code = 1;
  try {
    if (config.phase === 'install') code = await install(config);
    else if (config.phase === 'import') {
      installTimeWarp();
      code = await loadEntries(send, config.entries, config.projectDir, true);
      await settle();
    } else {
      installTimeWarp();
      code = (await browser(send, config, { afterLoad: settle })).code;
    }
  } catch (error) {
    send({ type: 'runner-error', error: describe(error) });
  }
  send({ type: 'done', code });
  // Stay alive: the host ends the run after its grace period.
  realTimers.setInterval(() => undefined, 1 << 30);
}

void main();
