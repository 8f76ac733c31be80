import { UserError } from '@secure-registry/shared';
import { FAIL_ON, isFailOn } from '../exit-codes.js';
import type { FailOn } from '../exit-codes.js';

/** Validates a `--fail-on` value (a usage error, exit 3, names the choices). */
export function parseFailOn(value: string): FailOn {
  if (!isFailOn(value)) {
    throw new UserError(
      'ERR_SR_USAGE',
      `--fail-on must be one of ${FAIL_ON.join(', ')} (got ${JSON.stringify(value)})`,
    );
  }
  return value;
}
