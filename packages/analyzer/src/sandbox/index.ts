export { checkSandboxSupport, type SandboxSupport } from './support.js';
export { runPhase } from './run-phase.js';
export type { PhaseRun, PhaseRunOptions } from './types.js';
export type { Honeytoken } from './honeytokens.js';
export { DECOY_TOOLS } from './decoys.js';
export { browserEntry, importEntries, lifecycleScripts } from './entry-points.js';
export { runBatch } from './run-batch.js';
export type { BatchPackage, BatchPackageRun, BatchRun, BatchRunOptions } from './batch-types.js';
export { NATIVE_BUILD_TIMEOUT_FACTOR } from './native-build.js';
