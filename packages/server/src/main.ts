#!/usr/bin/env node
// `node dist/main.js` and the `secure-registry-server` command: checks the Node.js version before
// anything else is loaded (an unsupported Node gets one line and exit 3, not "No such built-in
// module: node:sqlite"), then runs entry.ts.
import { runBin, SERVER_NODE_FLAGS } from '@secure-registry/shared/bin-shim';

await runBin('secure-registry-server', new URL('./entry.js', import.meta.url), {
  nodeFlags: SERVER_NODE_FLAGS,
});
