#!/usr/bin/env node
// `node dist/bin.js` and the `secure-registry` command: checks the Node.js version before anything
// else is loaded (an unsupported Node gets one line and exit 3, not a stack trace), then runs
// entry.ts.
import { runBin } from '@secure-registry/shared/bin-shim';

await runBin('secure-registry', new URL('./entry.js', import.meta.url));
