export * from './api.js';
export * from './errors.js';
export * from './events.js';
export * from './graph.js';
export * from './integrity.js';
export * from './package-id.js';
export * from './report.js';
export * from './verdict.js';
