import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { redact } from '@secure-registry/shared';

const MAIN = join(dirname(fileURLToPath(import.meta.url)), 'main.js');
const SECRETS = ['s3cretpass', 'tok3nvalue', 'qu3rykey'];
const UPSTREAM = `http://alice:${SECRETS[0]}@127.0.0.1:9/npm/?_authToken=${SECRETS[1]}&apikey=${SECRETS[2]}`;

test('redact hides URL credentials and token-like query parameters, keeping the host', () => {
  assert.equal(
    redact(`upstream ${UPSTREAM} failed`),
    'upstream http://***@127.0.0.1:9/npm/?_authToken=***&apikey=*** failed',
  );
  assert.equal(redact('https://registry.npmjs.org/left-pad'), 'https://registry.npmjs.org/left-pad');
});

test('upstream credentials never appear in the output of the server, its --help or /healthz', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'sr-upstream-cred-'));
  const env = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    SR_SANDBOX: 'off',
    SR_LOG_LEVEL: 'info',
    SR_PORT: '0',
    SR_DATA_DIR: dataDir,
    SR_UPSTREAM_REGISTRY: UPSTREAM,
  };
  try {
    const help = await new Promise<string>((resolve, reject) => {
      const child = spawn(process.execPath, [MAIN, '--help'], { env });
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
      child.on('error', reject);
      child.on('close', () => resolve(out));
    });
    const child = spawn(process.execPath, [MAIN], { env });
    let out = '';
    const url = await new Promise<string>((resolve, reject) => {
      const onData = (chunk: Buffer): void => {
        out += chunk.toString();
        const match = /listening on (http:\/\/\S+)/.exec(out);
        if (match) resolve(match[1]!);
      };
      child.stdout.on('data', onData);
      child.stderr.on('data', onData);
      child.on('close', () => reject(new Error(`server exited: ${out}`)));
    });
    const health = await (await fetch(`${url}/healthz`)).text();
    // A request that reaches the (unreachable) upstream makes it log and answer an error.
    const packument = await (await fetch(`${url}/left-pad`)).text();
    const closed = new Promise((resolve) => child.on('close', resolve));
    child.kill('SIGTERM');
    await closed;
    for (const [where, text] of Object.entries({ help, out, health, packument })) {
      for (const secret of SECRETS) assert.ok(!text.includes(secret), `${where} shows ${secret}: ${text}`);
    }
    assert.match(out, /127\.0\.0\.1:9/, 'the upstream host is still shown');
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
});
