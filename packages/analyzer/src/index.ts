export * from './static/index.js';
export * from './sandbox/index.js';
