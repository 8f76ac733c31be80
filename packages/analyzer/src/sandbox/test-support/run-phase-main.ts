// Runs the sandbox in this process and prints the result as JSON, so a test can run the real sandbox
// as another (unprivileged) user. Usage: node run-phase-main.js support | phase '<PhaseRunOptions>' |
// batch '<BatchRunOptions>'
import type { BatchRunOptions } from '../batch-types.js';
import { runBatch } from '../run-batch.js';
import { runPhase } from '../run-phase.js';
import { checkSandboxSupport } from '../support.js';
import type { PhaseRunOptions } from '../types.js';

const [mode, options = '{}'] = process.argv.slice(2);
const result =
  mode === 'support'
    ? await checkSandboxSupport()
    : mode === 'batch'
      ? await runBatch(JSON.parse(options) as BatchRunOptions)
      : await runPhase(JSON.parse(options) as PhaseRunOptions);
process.stdout.write(`${JSON.stringify({ uid: process.getuid?.(), result })}\n`);
