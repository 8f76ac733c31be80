// Decoy command-line tools placed on the sandbox's PATH. Each one reports its argv to the sink's decoy
// port (a channel outside the sandbox's file system) and answers plausibly, like the real tool would
// on a developer's laptop. Pure: returns script texts.

export const DECOY_TOOLS = [
  'gh',
  'claude',
  'gemini',
  'q',
  'trufflehog',
  'aws',
  'docker',
  'sudo',
  'crontab',
] as const;
export type DecoyTool = (typeof DECOY_TOOLS)[number];

/** The loopback port inside the sandbox's network namespace where decoys report. */
export const DECOY_PORT = 15003;

export function decoyScript(nodePath: string): string {
  return `#!${nodePath}
'use strict';
const path = require('path');
const fs = require('fs');
const net = require('net');
const tool = path.basename(process.argv[1]);
const args = process.argv.slice(2);
const home = process.env.HOME || '/home/' + (process.env.USER || 'user');
const has = (...words) => words.every((w) => args.includes(w));
function readHostsToken() {
  try {
    const m = /oauth_token:\\s*(\\S+)/.exec(fs.readFileSync(path.join(home, '.config/gh/hosts.yml'), 'utf8'));
    return m ? m[1] : '';
  } catch { return ''; }
}
function answer() {
  switch (tool) {
    case 'gh':
      if (has('auth', 'token')) return [(process.env.GH_TOKEN || process.env.GITHUB_TOKEN || readHostsToken()) + '\\n', '', 0];
      if (has('auth', 'status')) return ['', 'github.com\\n  \\u2713 Logged in to github.com account maria-keller-dev (keyring)\\n  - Active account: true\\n  - Git operations protocol: https\\n', 0];
      if (args[0] === 'api') return ['{"login":"maria-keller-dev","id":73012944,"type":"User"}\\n', '', 0];
      if (has('repo', 'create')) return ['https://github.com/maria-keller-dev/' + (args[2] || 'repo') + '\\n', '', 0];
      return ['', '', 0];
    case 'claude':
    case 'gemini':
    case 'q':
      if (args.includes('--version') || args.includes('-v')) return [tool === 'claude' ? '2.0.14 (Claude Code)\\n' : '0.9.0\\n', '', 0];
      return ['I have completed the task.\\n', '', 0];
    case 'trufflehog':
      if (args.includes('--version')) return ['trufflehog 3.90.6\\n', '', 0];
      return ['', '\\u{1F437}\\u{1F511}\\u{1F437}  TruffleHog. Unearth your secrets. \\u{1F437}\\u{1F511}\\u{1F437}\\n\\nfinished scanning chunks: 0 bytes: 0 verified_secrets: 0 unverified_secrets: 0\\n', 0];
    case 'aws':
      if (has('sts', 'get-caller-identity')) return ['{\\n    "UserId": "AIDA2X4QHB7TEXAMPLE",\\n    "Account": "493817264051",\\n    "Arn": "arn:aws:iam::493817264051:user/maria"\\n}\\n', '', 0];
      if (has('configure', 'get')) {
        const key = args[args.indexOf('get') + 1];
        const v = key === 'aws_access_key_id' ? process.env.AWS_ACCESS_KEY_ID : key === 'aws_secret_access_key' ? process.env.AWS_SECRET_ACCESS_KEY : key === 'region' ? 'eu-central-1' : '';
        return [(v || '') + '\\n', '', v ? 0 : 1];
      }
      return ['', '', 0];
    case 'docker':
      if (args[0] === 'ps') return ['CONTAINER ID   IMAGE          COMMAND                  CREATED       STATUS       PORTS                    NAMES\\n3f2a9c1d7b4e   postgres:16    "docker-entrypoint.s\\u2026"   2 hours ago   Up 2 hours   0.0.0.0:5432->5432/tcp   acme-db\\n', '', 0];
      if (args[0] === '--version') return ['Docker version 27.3.1, build ce12230\\n', '', 0];
      return ['', '', 0];
    case 'sudo':
      return ['', 'sudo: a terminal is required to read the password; either use the -S option to read from standard input or configure an askpass helper\\nsudo: a password is required\\n', 1];
    case 'crontab':
      if (args.includes('-l')) return ['', 'no crontab for ' + (process.env.USER || 'maria') + '\\n', 1];
      return ['', '', 0];
    default:
      return ['', '', 0];
  }
}
const [out, err, code] = answer();
let done = false;
function finish() {
  if (done) return;
  done = true;
  process.stdout.write(out);
  process.stderr.write(err);
  process.exitCode = code;
  setImmediate(() => process.exit(code));
}
const timer = setTimeout(finish, 1000);
const socket = net.connect(${DECOY_PORT}, '127.0.0.1');
socket.on('error', () => { clearTimeout(timer); finish(); });
socket.end(JSON.stringify({ tool, argv: args, cwd: process.cwd() }) + '\\n', () => { clearTimeout(timer); finish(); });
`;
}
