export * from './static/index.js';
export * from './sandbox/index.js';
export * from './trace/index.js';
export * from './baseline/index.js';
