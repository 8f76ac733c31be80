// Traces to reports: parsers (strace, gVisor strace, Tracee JSON), path classes, noise, baselines,
// honeytoken scanning and the reducer. Pure code: no processes, no I/O.
export * from './strace-parser.js';
export * from './tracee-parser.js';
export { decodeDnsQuery, type DnsQuestion } from './dns-wire.js';
export * from './file-class.js';
export * from './noise.js';
export * from './baseline.js';
export * from './honeytoken-scan.js';
export * from './reduce.js';
export * from './late-activity.js';
export { type ExistingFile } from './file-detail.js';
