/** Pure logic of the vetted registry: paths, served versions, packument shaping, reasons. */
export * from './advisories.js';
export * from './dist-tags.js';
export * from './offline.js';
export * from './packument.js';
export * from './reasons.js';
export * from './refused-versions.js';
export * from './records.js';
export * from './registry-path.js';
export * from './served-versions.js';
export * from './tarball-manifest.js';
