// A worker thread of the static pool (./static-pool.ts): analyses what it is sent, one message per
// artifact, several at once (extraction waits on the file system), and answers with the report.
import { parentPort } from 'node:worker_threads';
import { analyzeStaticInto, type AnalyzeStaticInput } from './analyze-static.js';

interface Job {
  id: number;
  input: AnalyzeStaticInput;
  /** Extract into this directory and leave the files there. */
  dir?: string;
}

parentPort?.on('message', (job: Job) => {
  void analyzeStaticInto(job.input, job.dir).then((result) =>
    parentPort?.postMessage({ id: job.id, ...result }),
  );
});
