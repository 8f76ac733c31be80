import { RemoteError, SecureRegistryError, UserError } from '@secure-registry/shared';
import { ExitCode } from './exit-codes.js';

/**
 * Remote errors that the user fixes, not the network or the server: credentials the server
 * refused (a bad or missing token, a role without the permission) and requests it rejected as
 * malformed (HTTP 4xx).
 */
const USER_FIXES = new Set(['ERR_SR_UNAUTHORIZED', 'ERR_SR_REQUEST']);

/**
 * The one map from an error to the exit code of `secure-registry` (README, "Exit codes"): bad
 * usage, input or credentials exit 3; the server or the network failing exits 4; so does anything
 * unexpected (never 0).
 */
export function exitCodeForError(error: unknown): ExitCode {
  if (error instanceof UserError) return ExitCode.UsageError;
  if (error instanceof RemoteError && USER_FIXES.has(error.code)) return ExitCode.UsageError;
  if (error instanceof SecureRegistryError) return ExitCode.RemoteError;
  return ExitCode.RemoteError;
}
