import { describe, test } from 'node:test';
import { strict as assert } from 'node:assert';
import {
  decodeBase32,
  findHoneytokens,
  findHoneytokensInDnsName,
  type TraceHoneytoken,
} from './honeytoken-scan.js';

const NPM: TraceHoneytoken = { name: 'NPM_TOKEN', value: 'npm_Q7x9Lk2PzR4tV8wY1bN3mC5dF6gH0jK' };
const AWS: TraceHoneytoken = {
  name: 'AWS_SECRET_ACCESS_KEY',
  value: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYzq81a7d',
};
const tokens = [NPM, AWS];
const b64 = (s: string): string => Buffer.from(s).toString('base64');
const names = (text: string): string[] =>
  findHoneytokens(text, tokens)
    .map((m) => `${m.token}:${m.encoding}`)
    .sort();

describe('honeytoken scanning', () => {
  test('plain, URL-encoded and reversed', () => {
    assert.deepEqual(names(`{"t":"${NPM.value}"}`), ['NPM_TOKEN:plain']);
    assert.deepEqual(names(`k=${encodeURIComponent(AWS.value)}`), ['AWS_SECRET_ACCESS_KEY:url']);
    assert.deepEqual(names([...NPM.value].reverse().join('')), ['NPM_TOKEN:reversed']);
  });

  test('base64 of an env dump: the token at any alignment inside the blob', () => {
    for (const prefix of ['', 'a', 'ab', 'abc']) {
      const env = JSON.stringify({ HOME: '/home/dev', x: prefix, NPM_TOKEN: NPM.value, PATH: '/usr/bin' });
      assert.deepEqual(names(`data=${b64(env)}`), ['NPM_TOKEN:base64'], `prefix ${JSON.stringify(prefix)}`);
      // a truncated capture (first bytes only) still reveals it
      assert.deepEqual(names(b64(env).slice(0, 120)), ['NPM_TOKEN:base64']);
    }
    // URL-safe alphabet
    const urlSafe = b64(`??>${AWS.value}`).replace(/\+/g, '-').replace(/\//g, '_');
    assert.deepEqual(names(urlSafe), ['AWS_SECRET_ACCESS_KEY:base64']);
  });

  test('triple base64 (the Nx s1ngularity upload)', () => {
    const loot = JSON.stringify({ npmrc: `//registry.npmjs.org/:_authToken=${NPM.value}`, aws: AWS.value });
    const triple = b64(b64(b64(loot)));
    const body = JSON.stringify({ message: 'init', content: triple });
    const found = findHoneytokens(body, tokens);
    assert.deepEqual(found.map((m) => m.token).sort(), ['AWS_SECRET_ACCESS_KEY', 'NPM_TOKEN']);
    // the outer layers are decoded; the innermost may match directly as a base64 variant
    assert.ok(
      found.every((m) => /^base64>base64>base64/.test(m.encoding)),
      JSON.stringify(found),
    );
    assert.ok(found.every((m) => m.index === body.indexOf(triple))); // where the blob starts in the body
  });

  test('hex in DNS labels under an attacker domain, split at any point', () => {
    const hex = Buffer.from(`u=dev;t=${NPM.value}`).toString('hex');
    const labels = hex.match(/.{1,29}/g) as string[]; // odd-sized chunks: labels cut across bytes
    const name = `${labels.join('.')}.x1.exfil.test`;
    const [m, ...rest] = findHoneytokensInDnsName(name, tokens);
    assert.equal(rest.length, 0);
    assert.equal(m?.token, 'NPM_TOKEN');
    assert.equal(m?.encoding, 'hex');
  });

  test('base32 labels (case-insensitive) in a DNS name', () => {
    const b32 = (s: string): string => {
      const A = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
      let bits = '';
      for (const b of Buffer.from(s)) bits += b.toString(2).padStart(8, '0');
      return (bits.match(/.{1,5}/g) as string[]).map((c) => A[parseInt(c.padEnd(5, '0'), 2)]).join('');
    };
    assert.equal(decodeBase32(b32('hello world')), 'hello world');
    const data = b32(AWS.value).toLowerCase();
    const name = `${data.slice(0, 40)}.${data.slice(40)}.c2.exfil.test`;
    assert.deepEqual(
      findHoneytokensInDnsName(name, tokens).map((m) => [m.token, m.encoding]),
      [['AWS_SECRET_ACCESS_KEY', 'base32']],
    );
  });

  test('no false positives on ordinary traffic and on partial tokens', () => {
    const body = JSON.stringify({ name: 'left-pad', versions: ['1.0.0'], token: NPM.value.slice(0, 12) });
    assert.deepEqual(names(body), []);
    assert.deepEqual(names(b64(body)), []);
    assert.deepEqual(findHoneytokensInDnsName('registry.npmjs.org', tokens), []);
    assert.deepEqual(findHoneytokens('anything', [{ name: 'SHORT', value: 'abc' }]), []); // too short to be unique
  });
});
