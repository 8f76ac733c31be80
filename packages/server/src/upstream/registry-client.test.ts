import { strict as assert } from 'node:assert';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, test } from 'node:test';
import { RemoteError } from '@secure-registry/shared';
import {
  RegistryClient,
  UpstreamHttpError,
  encodeRegistryName,
  normalizeBaseUrl,
} from './registry-client.js';

async function serve(handler: Parameters<typeof createServer>[1]) {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe('registry client', () => {
  test('scoped names are encoded @scope%2fname; base URLs with or without a trailing slash', () => {
    assert.equal(encodeRegistryName('@scope/pkg'), '@scope%2fpkg');
    assert.equal(encodeRegistryName('lodash'), 'lodash');
    assert.equal(normalizeBaseUrl('http://r.test/npm'), 'http://r.test/npm/');
    assert.equal(normalizeBaseUrl('http://r.test/npm/'), 'http://r.test/npm/');
    assert.throws(() => normalizeBaseUrl('ftp://r.test'), /http/);
    const client = new RegistryClient({ baseUrl: 'http://r.test/npm' });
    assert.equal(client.packumentUrl('@scope/pkg'), 'http://r.test/npm/@scope%2fpkg');
    void client.close();
  });

  test('asks for the full packument, shares concurrent fetches and caches briefly', async () => {
    const seen: { url: string | undefined; accept: string | undefined }[] = [];
    const upstream = await serve((req, res) => {
      seen.push({ url: req.url, accept: req.headers.accept });
      setTimeout(() => res.end(JSON.stringify({ name: '@a/b', versions: {} })), 50);
    });
    const client = new RegistryClient({ baseUrl: `${upstream.url}/prefix` });
    try {
      const results = await Promise.all([client.getPackument('@a/b'), client.getPackument('@a/b')]);
      assert.equal(results[0], results[1]);
      await client.getPackument('@a/b');
      assert.equal(seen.length, 1);
      assert.deepEqual(seen[0], { url: '/prefix/@a%2fb', accept: 'application/json' });
      await client.getPackument('@a/b', { fresh: true });
      assert.equal(seen.length, 2);
    } finally {
      await client.close();
      await upstream.close();
    }
  });

  test('HTTP errors, bad JSON, oversize bodies and timeouts are RemoteErrors', async () => {
    const upstream = await serve((req, res) => {
      if (req.url === '/gone') res.writeHead(404).end();
      else if (req.url === '/broken') res.writeHead(503).end();
      else if (req.url === '/bad-json') res.end('{nope');
      else if (req.url === '/big.tgz') res.end(Buffer.alloc(2048));
      else if (req.url === '/slow') setTimeout(() => res.end('{}'), 2000);
      else res.end('{}');
    });
    const client = new RegistryClient({ baseUrl: upstream.url, maxTarballBytes: 1024, timeoutMs: 300 });
    try {
      await assert.rejects(
        client.getPackument('gone'),
        (e) => e instanceof UpstreamHttpError && !e.retryable,
      );
      await assert.rejects(
        client.getPackument('broken'),
        (e) => e instanceof UpstreamHttpError && e.retryable,
      );
      await assert.rejects(client.getPackument('bad-json'), { code: 'ERR_SR_UPSTREAM_BAD_PACKUMENT' });
      await assert.rejects(client.getTarball(`${upstream.url}/big.tgz`), {
        code: 'ERR_SR_UPSTREAM_TOO_LARGE',
      });
      await assert.rejects(client.getPackument('slow'), (e) => e instanceof RemoteError);
      await assert.rejects(new RegistryClient({ baseUrl: 'http://127.0.0.1:9/' }).getPackument('x'), {
        code: 'ERR_SR_UPSTREAM_NETWORK',
      });
    } finally {
      await client.close();
      await upstream.close();
    }
  });
});
