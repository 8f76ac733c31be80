import type { CodeSignalKind } from './types.js';

/**
 * The pattern table of the code scanner. Every regex is linear on its input: no nested unbounded
 * quantifiers, bounded look-arounds, so a 3 MB minified bundle scans in milliseconds per pattern.
 */
export interface CodePattern {
  kind: CodeSignalKind;
  pattern: string;
  strength: 'strong' | 'weak';
  regex: RegExp;
  /** Minimum number of matches in a file before the pattern counts. */
  minCount?: number;
  /** Cheap prefilter: the regex runs only when the text contains one of these substrings. */
  hints?: string[];
  /** Extra check on a match (e.g. decoded escapes must spell text). */
  accept?: (match: string) => boolean;
}

function decodesToText(match: string): boolean {
  const codes = [...match.matchAll(/\\(?:x([0-9a-fA-F]{2})|u([0-9a-fA-F]{4}))/g)].map((m) =>
    Number.parseInt(m[1] ?? m[2] ?? '0', 16),
  );
  if (codes.length === 0) return false;
  const printable = codes.filter((c) => c >= 0x20 && c <= 0x7e).length;
  const letters = codes.filter((c) => (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a)).length;
  return printable / codes.length >= 0.9 && letters / codes.length >= 0.4;
}

const Q = `['"\`]`;
const NET_MODULES = '(?:node:)?(?:https?|http2|net|tls|dgram|dns)(?:/promises)?';
const NET_LIBS = '(?:axios|node-fetch|got|request|undici|needle|superagent|ws|cross-fetch)';

export const CODE_PATTERNS: CodePattern[] = [
  // Obfuscation.
  {
    kind: 'obfuscation',
    pattern: '_0x-identifiers',
    hints: ['_0x'],
    strength: 'strong',
    regex: /\b_0x[0-9a-fA-F]{4,}\b/g,
    minCount: 5,
  },
  {
    kind: 'obfuscation',
    pattern: 'hex-escaped-text',
    hints: ['\\x'],
    strength: 'strong',
    regex: /(?:\\x[0-9a-fA-F]{2}){20,}/g,
    accept: decodesToText,
  },
  {
    kind: 'obfuscation',
    pattern: 'unicode-escaped-text',
    hints: ['\\u'],
    strength: 'strong',
    regex: /(?:\\u[0-9a-fA-F]{4}){20,}/g,
    accept: decodesToText,
  },
  {
    kind: 'obfuscation',
    pattern: 'eval-of-decoded-data',
    hints: ['eval', 'Function'],
    strength: 'strong',
    regex:
      /\b(?:eval|Function)\s*\((?:[^()\n]|\([^()\n]{0,200}\)){0,200}?\b(?:atob|fromCharCode|Buffer\.from|decodeURIComponent|unescape)\b/g,
  },
  {
    kind: 'obfuscation',
    pattern: 'code-after-long-whitespace',
    strength: 'strong',
    // Visible code, then enough blanks to push the rest off screen, then more code. Padding strings
    // ('   ') and aligned comments are excluded by the quote / comment characters around the run.
    regex: /[^\s'"`][ \t]{150,}(?![/*'"`])[^\s]/g,
  },
  // Browser hooks: replacing or wrapping the page's network and wallet APIs.
  {
    kind: 'browser-hook',
    pattern: 'fetch-override',
    hints: ['fetch'],
    strength: 'strong',
    regex: new RegExp(
      `\\b(?:window|globalThis|self|global)\\s*(?:\\.\\s*fetch|\\[\\s*${Q}fetch${Q}\\s*\\])\\s*=(?!=)|defineProperty\\(\\s*(?:window|globalThis|self)\\s*,\\s*${Q}fetch${Q}`,
      'g',
    ),
  },
  {
    kind: 'browser-hook',
    pattern: 'xhr-prototype-override',
    hints: ['XMLHttpRequest'],
    strength: 'strong',
    regex: new RegExp(
      `XMLHttpRequest\\s*\\.\\s*prototype\\s*(?:\\.\\s*(?:open|send|setRequestHeader)|\\[\\s*${Q}(?:open|send|setRequestHeader)${Q}\\s*\\])\\s*=(?!=)`,
      'g',
    ),
  },
  {
    kind: 'browser-hook',
    pattern: 'ethereum-override',
    hints: ['ethereum'],
    strength: 'strong',
    regex: new RegExp(
      `\\bethereum\\s*(?:\\.\\s*(?:request|send|sendAsync)|\\[\\s*${Q}(?:request|send|sendAsync)${Q}\\s*\\])\\s*=(?!=)|new\\s+Proxy\\s*\\(\\s*(?:window\\s*\\.\\s*)?ethereum\\b|defineProperty\\(\\s*window\\s*,\\s*${Q}ethereum${Q}`,
      'g',
    ),
  },
  // Credential and wallet locations.
  {
    kind: 'credential-path',
    pattern: 'npmrc',
    hints: ['.npmrc'],
    strength: 'strong',
    regex: /\.npmrc\b/g,
  },
  {
    kind: 'credential-path',
    pattern: 'ssh-keys',
    hints: ['.ssh', 'id_'],
    strength: 'strong',
    regex: new RegExp(`\\.ssh(?:[/\\\\]|${Q})|\\bid_(?:rsa|ed25519|ecdsa|dsa)\\b`, 'g'),
  },
  {
    kind: 'credential-path',
    pattern: 'cloud-credentials',
    hints: ['.aws', 'gcloud', 'application_default', '.docker', '.kube'],
    strength: 'strong',
    regex: new RegExp(
      `\\.aws(?:[/\\\\]|${Q}\\s*,\\s*${Q})credentials|\\.config[/\\\\]gcloud|application_default_credentials\\.json|\\.docker[/\\\\]config\\.json|\\.kube[/\\\\]config\\b`,
      'g',
    ),
  },
  {
    kind: 'credential-path',
    pattern: 'git-credentials',
    hints: ['.git-credentials', '.config', 'hosts.yml'],
    strength: 'strong',
    regex: new RegExp(
      `\\.git-credentials\\b|\\.config(?:[/\\\\]|${Q}\\s*,\\s*${Q})gh\\b|\\bgh[/\\\\]hosts\\.yml`,
      'g',
    ),
  },
  {
    kind: 'credential-path',
    pattern: 'crypto-wallets',
    strength: 'strong',
    regex: new RegExp(
      `solana(?:[/\\\\]|${Q}\\s*,\\s*${Q})id\\.json|\\.ethereum[/\\\\]keystore|exodus\\.wallet|\\.electrum[/\\\\]wallets|Electrum[/\\\\]wallets|nkbihfbeogaeaoehlefnkodbefgpgknn|Local Extension Settings`,
      'gi',
    ),
  },
  // Environment dumps and host fingerprints.
  {
    kind: 'env-dump',
    pattern: 'stringify-process-env',
    hints: ['process.env'],
    strength: 'strong',
    // The whole environment (not one variable) inside a stringify call, also wrapped in an object.
    regex: /JSON\.stringify\([^;\n]{0,100}?\bprocess\.env\b(?![.[\w])/g,
  },
  {
    kind: 'env-dump',
    pattern: 'iterate-process-env',
    hints: ['process.env'],
    strength: 'weak',
    regex: /Object\.(?:keys|entries|values)\(\s*process\.env\s*\)|\bin\s+process\.env\s*\)/g,
  },
  {
    kind: 'env-dump',
    pattern: 'host-fingerprint',
    hints: ['os.'],
    strength: 'weak',
    regex: /\bos\.(?:hostname|userInfo|networkInterfaces)\s*\(\s*\)/g,
  },
  // Network capability (context for the rules, not a finding by itself).
  {
    kind: 'network',
    pattern: 'network-module',
    hints: ['require', 'from', 'import'],
    strength: 'weak',
    regex: new RegExp(
      `\\brequire\\(\\s*${Q}(?:${NET_MODULES}|${NET_LIBS})${Q}\\s*\\)|\\bfrom\\s*${Q}(?:${NET_MODULES}|${NET_LIBS})${Q}|\\bimport\\(\\s*${Q}(?:${NET_MODULES}|${NET_LIBS})${Q}`,
      'g',
    ),
  },
  {
    kind: 'network',
    pattern: 'network-call',
    hints: ['fetch', 'new ', 'sendBeacon'],
    strength: 'weak',
    regex: /\bfetch\s*\(|\bnew\s+(?:XMLHttpRequest|WebSocket)\b|\bnavigator\.sendBeacon\s*\(/g,
  },
  {
    kind: 'network',
    pattern: 'exfil-endpoint',
    strength: 'strong',
    regex:
      /discord(?:app)?\.com\/api\/webhooks|api\.telegram\.org\/bot|\bwebhook\.site\b|\bpastebin\.com\b|\bhastebin\.com\b|\brequestbin\.(?:com|net|io)\b|\bpipedream\.net\b|\.ngrok(?:-free)?\.(?:io|app)\b|\boast\.(?:fun|me|site|live|pro)\b|\bburpcollaborator\.net\b|\binteract\.sh\b|\btransfer\.sh\b/gi,
  },
  // Shell droppers and reverse shells, in scripts, shell files and command strings in code.
  ...shellPatterns(),
  {
    // A dropper command handed straight to a process-spawning call (not merely printed as advice).
    kind: 'shell-downloader',
    pattern: 'exec-dropper',
    strength: 'strong',
    hints: ['exec', 'spawn'],
    regex:
      /\b(?:exec|execSync|spawn|spawnSync|execFile|execFileSync|execa\w*)\s*\((?:[^()\n]|\([^()\n]{0,100}\)){0,300}?(?:\|\s*(?:sudo\s+)?(?:ba|z|da)?sh\b|\/dev\/(?:tcp|udp)\/|\bnc\s+-e\b)/g,
  },
  // Many wallet addresses in one file: the address-swapping payload's list of replacements.
  {
    kind: 'crypto-address-list',
    pattern: 'wallet-addresses',
    hints: ['0x', 'bc1'],
    strength: 'weak',
    regex: /\b0x[0-9a-fA-F]{40}\b|\bbc1[02-9ac-hj-np-z]{38,58}\b/g,
    minCount: 20,
  },
];

export function shellPatterns(): CodePattern[] {
  return [
    {
      kind: 'shell-downloader',
      pattern: 'pipe-to-shell',
      strength: 'strong',
      regex:
        /\b(?:curl|wget)\b[^|\n;&]{0,300}\|\s*(?:sudo\s+)?(?:ba|z|da|k)?sh\b|base64\s+(?:-d|--decode)\b[^\n|]{0,100}\|\s*(?:ba|z)?sh\b/g,
    },
    {
      kind: 'shell-downloader',
      pattern: 'download-and-execute',
      strength: 'strong',
      regex:
        /\b(?:curl|wget)\b[^\n;|&]{0,300}(?:&&|;)\s*(?:chmod\s+(?:[+ugoa]*x|[0-7]{3,4})|\.\/|(?:ba|z)?sh\s|nohup\s)|(?:powershell|pwsh)\b[^\n]{0,200}\b(?:IEX|Invoke-Expression|DownloadString)\b/gi,
    },
    {
      kind: 'shell-downloader',
      pattern: 'reverse-shell',
      strength: 'strong',
      regex:
        /\/dev\/(?:tcp|udp)\/[^\s'"`]+|\b(?:nc|ncat|netcat)\b[^\n|;]{0,100}\s-[a-z]*[ec]\s|\bsocat\b[^\n]{0,100}exec:|import\s+socket\s*,\s*subprocess/gi,
    },
  ];
}

/** A bare download tool in an install script: a prebuilt-binary fetch looks the same. */
export const SCRIPT_DOWNLOAD_PATTERN = /(?:^|[\s;&|(])(?:curl|wget)\s/;
