#!/usr/bin/env node
// The `secure-registry-server` command. Checks the Node.js version before anything else is loaded,
// so an unsupported Node gets one line and exit 3 instead of a stack trace, then runs the server.
import { runBin } from '@secure-registry/shared/bin-shim';

// dist/main.js runs the server under SERVER_NODE_FLAGS (its own runBin).
await runBin('secure-registry-server', new URL('../dist/main.js', import.meta.url));
