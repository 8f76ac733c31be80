#!/usr/bin/env node
// Entry point of the GitHub Action (action.yml at the repository root): `node dist/action/main.js`
// with the environment GitHub gives a step. Exit 0 once the scan is recorded (its verdict is the
// `exit-code` output); on bad input or a server failure, an error annotation and the CLI's exit code.
import { SecureRegistryError, redact } from '@secure-registry/shared';
import { exitCodeForError } from '../error-exit-code.js';
import { runAction } from './run-action.js';

try {
  process.exitCode = await runAction(process.env, process);
} catch (error) {
  const message = error instanceof Error ? error.message : String(error);
  const hint = error instanceof SecureRegistryError && error.hint ? ` (${error.hint})` : '';
  // One line: a workflow command's message ends at the line break.
  process.stderr.write(
    redact(`::error title=secure-registry::${message}${hint}`.replace(/\r?\n/g, ' ')) + '\n',
  );
  process.exitCode = exitCodeForError(error);
}
