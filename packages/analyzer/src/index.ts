export * from './static/index.js';
