// `node runner-main.js --analysis-id ID --artifact-url URL --integrity sha256-…`: the entry the
// analysis workflow runs. Exit 0 when the result was delivered, 2 for bad arguments, 1 otherwise.
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
      },
    }));
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`);
    return 2;
  }
  const analysisId = values['analysis-id'];
  const artifactUrl = values['artifact-url'];
  const integrity = values.integrity;
  if (!analysisId || !artifactUrl || !integrity) {
    process.stderr.write('usage: runner --analysis-id ID --artifact-url URL --integrity sha256-…\n');
    return 2;
  }
  try {
    const run = await runAnalysis({ analysisId, artifactUrl, integrity });
    process.stdout.write(`phase run ${run.status}, ${run.events.length} events, result delivered\n`);
    return 0;
  } catch (error) {
    process.stderr.write(`runner: ${(error as Error).message}\n`);
    return 1;
  }
}

process.exitCode = await main();
