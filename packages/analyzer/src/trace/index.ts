export * from './strace-parser.js';
export * from './tracee-parser.js';
