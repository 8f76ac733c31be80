import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BugError, RemoteError, SecureRegistryError, UserError } from '@secure-registry/shared';
import { STATUS_BY_CODE, toErrorResponse } from './errors.js';

test('a domain error gets its status from the one map, with an npm-shaped body (hint kept, tokens redacted)', () => {
  const notFound = toErrorResponse(
    new UserError(
      'ERR_SR_PACKAGE_NOT_FOUND',
      'no analysed artifact of x@1.0.0 (npm_abcdefghijklmnopqrstuvwx)',
      {
        hint: 'scan it first',
      },
    ),
  );
  assert.equal(notFound.statusCode, 404);
  assert.deepEqual(notFound.body, {
    error: 'no analysed artifact of x@1.0.0 (***)',
    code: 'ERR_SR_PACKAGE_NOT_FOUND',
    hint: 'scan it first',
  });
  assert.equal(toErrorResponse(new UserError('ERR_SR_NOT_ANALYSED', 'wait')).statusCode, 409);
  assert.equal(toErrorResponse(new RemoteError('ERR_SR_INTEGRITY', 'mismatch')).statusCode, 502);
});

test('codes without an entry follow their class; a defect says nothing of itself to the client', () => {
  assert.equal(toErrorResponse(new UserError('ERR_SR_SOMETHING_NEW', 'bad')).statusCode, 400);
  const remote = toErrorResponse(new RemoteError('ERR_SR_UPSTREAM_HTTP', 'upstream answered 503 for u'));
  assert.deepEqual(remote, {
    statusCode: 502,
    body: { error: 'upstream answered 503 for u', code: 'ERR_SR_UPSTREAM_HTTP' },
  });
  const bug = toErrorResponse(new BugError('ERR_SR_DECIDE', 'decide() needs the policy'));
  assert.deepEqual(bug, {
    statusCode: 500,
    body: { error: 'internal server error', code: 'ERR_SR_INTERNAL' },
  });
  assert.equal(toErrorResponse(new SecureRegistryError('ERR_SR_X', 'plain')).statusCode, 500);
  assert.equal(toErrorResponse(new Error('boom')).statusCode, 500);
  assert.equal(
    toErrorResponse(Object.assign(new Error('big'), { statusCode: 413 })).body.code,
    'ERR_SR_BODY_TOO_LARGE',
  );
});

test('every code the services, routes and MCP endpoint throw at a client has an entry in the map', () => {
  const root = fileURLToPath(new URL('..', import.meta.url));
  const thrown = new Set<string>();
  for (const dir of ['services', 'http', 'mcp'])
    for (const entry of readdirSync(join(root, dir), { recursive: true, encoding: 'utf8' })) {
      if (!entry.endsWith('.js') || entry.endsWith('.test.js') || entry.includes('test-support')) continue;
      const text = readFileSync(join(root, dir, entry), 'utf8');
      for (const match of text.matchAll(/new (?:UserError|RemoteError)\(\s*'(ERR_SR_[A-Z_]+)'/g))
        thrown.add(match[1]!);
    }
  assert.ok(thrown.size > 10, `found ${thrown.size} codes`);
  const missing = [...thrown].filter((code) => !(code in STATUS_BY_CODE));
  assert.deepEqual(missing, []);
});
