import { strict as assert } from 'node:assert';
import { describe, test } from 'node:test';
import { assertNpmOk, runNpm } from './npm.js';

describe('runNpm', () => {
  test('a missing npm is a UserError with a hint, not a stack trace', async () => {
    await assert.rejects(
      runNpm(['--version'], {
        cwd: process.cwd(),
        env: { ...process.env, SECURE_REGISTRY_NPM: '/nonexistent/npm' },
      }),
      (error: Error & { code?: string; hint?: string }) =>
        error.name === 'UserError' &&
        error.code === 'ERR_SR_NPM_NOT_FOUND' &&
        /SECURE_REGISTRY_NPM/.test(error.hint ?? ''),
    );
  });

  test('a failing npm command is a result; assertNpmOk turns it into a RemoteError with npm output', async () => {
    const result = await runNpm(['config', 'get'], {
      cwd: process.cwd(),
      env: { ...process.env, SECURE_REGISTRY_NPM: process.execPath },
    });
    // `node config get` fails: a non-zero exit code comes back as data.
    assert.notEqual(result.exitCode, 0);
    assert.throws(() => assertNpmOk(result, 'reading config'), {
      name: 'RemoteError',
      code: 'ERR_SR_NPM_FAILED',
    });
    const ok = await runNpm(['--version'], { cwd: process.cwd(), env: process.env });
    assert.equal(ok.exitCode, 0);
    assert.match(ok.stdout, /^\d+\.\d+\.\d+/);
    assert.equal(assertNpmOk(ok, 'version'), ok);
  });
});
