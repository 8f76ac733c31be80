// The `secure-registry-server` process: argv, env, signals and exit wired to the CLI. Run through
// main.ts, which checks the Node.js version first.
import { runCli } from './cli/run.js';

const stopSignal = new Promise<string>((resolve) => {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => resolve(signal));
});
const code = await runCli(process.argv.slice(2), process.env, {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  stopSignal,
});
process.exit(code);
