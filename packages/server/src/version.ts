import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** The version of `@secure-registry/server`, from its package.json. */
export const SERVER_VERSION: string = (require('../package.json') as { version: string }).version;
