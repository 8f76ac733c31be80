// Runs the sandbox in this process and prints the result as JSON, so a test can run the real sandbox
// as another (unprivileged) user. Usage: node run-phase-main.js support | '<PhaseRunOptions as JSON>'
import { runPhase } from '../run-phase.js';
import { checkSandboxSupport } from '../support.js';
import type { PhaseRunOptions } from '../types.js';

const arg = process.argv[2] ?? '';
const result =
  arg === 'support' ? await checkSandboxSupport() : await runPhase(JSON.parse(arg) as PhaseRunOptions);
process.stdout.write(`${JSON.stringify({ uid: process.getuid?.(), result })}\n`);
