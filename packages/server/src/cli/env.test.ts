import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { DEFAULT_PORT, defaultDataDir, parseServeEnv } from './env.js';

const BASE = { UPSTREAM_REGISTRY: 'http://up.test/', HOME: '/home/u' };

test('defaults: 127.0.0.1, the documented port, token auth, XDG data dir', () => {
  const options = parseServeEnv({ ...BASE, XDG_DATA_HOME: '/xdg' }, '/cwd');
  assert.equal(options.host, '127.0.0.1');
  assert.equal(options.port, DEFAULT_PORT);
  assert.equal(options.auth, 'token');
  assert.equal(options.dataDir, '/xdg/secure-registry');
  assert.equal(options.upstream, 'http://up.test/');
  assert.equal(defaultDataDir({}, '/home/u'), '/home/u/.local/share/secure-registry');
  assert.equal(parseServeEnv({ ...BASE, DATA_DIR: 'rel' }, '/cwd').dataDir, '/cwd/rel');
});

test('bad values name the variable', () => {
  for (const [name, value] of [
    ['PORT', 'eighty'],
    ['PORT', '70000'],
    ['CONCURRENCY', '0'],
    ['AUTH', 'maybe'],
    ['UPSTREAM_REGISTRY', 'not a url'],
    ['DATABASE_URL', 'mysql://x'],
    ['BODY_LIMIT', '-1'],
    ['LOG_LEVEL', 'loud'],
  ] as const) {
    assert.throws(
      () => parseServeEnv({ ...BASE, [name]: value }, '/cwd'),
      (error: Error & { code?: string }) => error.code === 'ERR_SR_CONFIG' && error.message.startsWith(name),
      `${name}=${value}`,
    );
  }
});
