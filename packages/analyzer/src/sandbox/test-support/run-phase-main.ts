// Runs one phase in the sandbox and prints the PhaseRun as JSON: lets a test run the real sandbox as
// another (unprivileged) user. Usage: node run-phase-main.js '<PhaseRunOptions as JSON>'
import { runPhase } from '../run-phase.js';
import type { PhaseRunOptions } from '../types.js';

const run = await runPhase(JSON.parse(process.argv[2] ?? '{}') as PhaseRunOptions);
process.stdout.write(`${JSON.stringify(run)}\n`);
