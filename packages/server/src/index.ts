/** Public entry of `@secure-registry/server`. The CLI's local mode starts the server through here. */
export { startServer, DEFAULT_HOST } from './start-server.js';
export type { RunningServer, StartServerOptions } from './start-server.js';
export { buildServer, DEFAULT_BODY_LIMIT } from './app.js';
export type { ServerDeps } from './app.js';
export { ScanService } from './services/scan-service.js';
export { ScanEventHub } from './services/scan-event-hub.js';
export { createStore } from './storage/index.js';
export { LocalArtifactStore, artifactKey } from './artifacts/artifact-store.js';
export type { ArtifactStore } from './artifacts/artifact-store.js';
export { S3ArtifactStore } from './artifacts/s3-artifact-store.js';
export type { Store } from './storage/store.js';
export { issueToken, generateToken, hashToken } from './http/auth.js';
export type { AuthMode } from './http/auth.js';
export { SERVER_VERSION } from './version.js';
