#!/usr/bin/env node
// The `secure-registry` command. Checks the Node.js version before anything else is loaded, so an
// unsupported Node gets one line and exit 3 instead of a stack trace, then runs the built CLI.
import { runBin } from '@secure-registry/shared/bin-shim';

await runBin('secure-registry', new URL('../dist/bin.js', import.meta.url));
