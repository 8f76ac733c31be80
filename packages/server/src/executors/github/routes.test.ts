import { strict as assert } from 'node:assert';
import { after, before, test } from 'node:test';
import Fastify from 'fastify';
import type { FastifyInstance } from 'fastify';
import { registerExecutorRoutes } from './routes.js';
import { RESULT_KEY_HEADER, SIGNATURE_HEADER, signBody, Transfer } from './transfer.js';

let app: FastifyInstance;
let base: string;
let clock = 1_000_000;
const transfer = new Transfer('http://127.0.0.1:1', 60_000, () => clock);

before(async () => {
  app = Fastify();
  registerExecutorRoutes(app, transfer);
  base = await app.listen({ port: 0, host: '127.0.0.1' });
  transfer.publicUrl = base;
});

after(() => app.close());

async function keyOf(url: string): Promise<string> {
  const response = await fetch(url);
  assert.equal(response.status, 200);
  return response.headers.get(RESULT_KEY_HEADER) ?? assert.fail('no result key');
}

function post(id: string, body: string, signature: string): Promise<Response> {
  return fetch(`${base}/executor/results/${id}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', [SIGNATURE_HEADER]: signature },
    body,
  });
}

test('a result is accepted once: a replayed or second upload for the same analysis is refused', async () => {
  const offer = transfer.offer(Buffer.from('artifact'));
  const key = await keyOf(offer.url);
  const first = '{"verdict":"first"}';
  assert.equal((await post(offer.id, first, signBody(key, first))).status, 204);
  assert.equal((await offer.result).toString(), first);

  const replay = await post(offer.id, first, signBody(key, first));
  assert.equal(replay.status, 409);
  const other = '{"verdict":"second"}';
  assert.equal((await post(offer.id, other, signBody(key, other))).status, 409);
  assert.equal(transfer.ingest(offer.id, Buffer.from(other), signBody(key, other)), 'duplicate');
  transfer.release(offer.id);
});

test('a wrong signature is refused and leaves the analysis open for the real result', async () => {
  const offer = transfer.offer(Buffer.from('artifact'));
  const key = await keyOf(offer.url);
  const body = '{"ok":true}';
  assert.equal((await post(offer.id, body, signBody('not-the-key', body))).status, 401);
  assert.equal((await post(offer.id, body, signBody(key, body))).status, 204);
  transfer.release(offer.id);
});

test('a result for an unknown, released or expired analysis is refused before its body is read', async () => {
  const unknown = await post('00000000-0000-4000-8000-000000000000', '{}', 'sha256=00');
  assert.equal(unknown.status, 404);

  const released = transfer.offer(Buffer.from('artifact'));
  const key = await keyOf(released.url);
  transfer.release(released.id);
  assert.equal((await post(released.id, '{}', signBody(key, '{}'))).status, 404);

  const expiring = transfer.offer(Buffer.from('artifact'));
  const expiringKey = await keyOf(expiring.url);
  clock += 60_001;
  assert.equal(transfer.accepting(expiring.id), 'expired');
  // An oversized body is never buffered for a closed analysis: the refusal comes from the URL alone.
  const big = 'x'.repeat(8 * 1024 * 1024);
  assert.equal((await post(expiring.id, big, signBody(expiringKey, big))).status, 404);
  transfer.release(expiring.id);
});
