// The local executor: the honeypot sandbox on this machine (the analyzer's runPhase), bounded by its cores.
import { availableParallelism } from 'node:os';
import { checkSandboxSupport, runBatch, runPhase } from '@secure-registry/analyzer';
import type { Executor } from './types.js';

export function createLocalExecutor(): Executor {
  return {
    kind: 'local',
    runPhase,
    runBatch,
    checkSupport: checkSandboxSupport,
    concurrency: availableParallelism(),
    sharesMachine: true,
    batches: true,
    close: async () => {},
  };
}
