// `node runner-main.js --analysis-id ID --artifact-url URL --integrity sha256-… [--trace tracee
// --tracee-events FILE [--tracee-quiet-ms N]]`: the entry the analysis workflow runs. `--trace strace`
// (default) reports what strace saw in the sandbox; `--trace tracee` takes the kernel events from
// Tracee's JSON output FILE instead (the workflow's Tracee container, or a recorded file replayed).
// Exit 0 when the result was delivered, 2 for bad arguments, 1 otherwise.
import { parseArgs } from 'node:util';
import { runAnalysis } from './runner.js';

async function main(): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        'analysis-id': { type: 'string' },
        'artifact-url': { type: 'string' },
        integrity: { type: 'string' },
        trace: { type: 'string', default: 'strace' },
        'tracee-events': { type: 'string' },
        'tracee-quiet-ms': { type: 'string', default: '0' },
      },
    }));
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`);
    return 2;
  }
  const analysisId = values['analysis-id'];
  const artifactUrl = values['artifact-url'];
  const integrity = values.integrity;
  const trace = values.trace;
  const traceeEvents = values['tracee-events'];
  const traceeQuietMs = Number(values['tracee-quiet-ms']);
  const badTrace =
    (trace !== 'strace' && trace !== 'tracee') ||
    (trace === 'tracee') !== (traceeEvents !== undefined) ||
    !Number.isInteger(traceeQuietMs) ||
    traceeQuietMs < 0;
  if (!analysisId || !artifactUrl || !integrity || badTrace) {
    process.stderr.write(
      'usage: runner --analysis-id ID --artifact-url URL --integrity sha256-… [--trace strace|tracee] [--tracee-events FILE (with --trace tracee)] [--tracee-quiet-ms N]\n',
    );
    return 2;
  }
  try {
    const result = await runAnalysis({
      analysisId,
      artifactUrl,
      integrity,
      ...(traceeEvents !== undefined && { traceeEvents, traceeQuietMs }),
    });
    const summary =
      'run' in result
        ? `phase run ${result.run.status}, ${result.run.events.length} events`
        : `batch of ${result.batch.packages.length} ${result.batch.status}, ${result.batch.packages.filter((p) => p.needsIsolation).length} to run again alone`;
    process.stdout.write(`${summary}, result delivered\n`);
    return 0;
  } catch (error) {
    process.stderr.write(`runner: ${(error as Error).message}\n`);
    return 1;
  }
}

process.exitCode = await main();
