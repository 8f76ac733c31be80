export * from './strace-parser.js';
