// Per-run honeytokens: random, unique values planted in the sandbox's environment and files.
// Pure apart from the random source; the caller records them so egress can be matched later.
import { randomBytes, randomInt } from 'node:crypto';

export interface Honeytoken {
  /** What the token imitates, e.g. `env:NPM_TOKEN` or `file:npmrc`. */
  name: string;
  value: string;
  /** The file holding it (as seen inside the sandbox), for file tokens. */
  path?: string;
}

const BASE62 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

function pick(alphabet: string, length: number): string {
  let out = '';
  for (let i = 0; i < length; i++) out += alphabet[randomInt(alphabet.length)];
  return out;
}

const hex = (bytes: number): string => randomBytes(bytes).toString('hex');

export interface HoneytokenSet {
  env: Record<string, string>;
  tokens: Honeytoken[];
  values: {
    npmEnv: string;
    githubEnv: string;
    awsKeyId: string;
    awsSecret: string;
    anthropic: string;
    openai: string;
    npmrc: string;
    awsFileKeyId: string;
    awsFileSecret: string;
    sshKeyLine: string;
    ghHosts: string;
    gitCredentials: string;
    dotenvStripe: string;
    dotenvDbPassword: string;
    solanaKey: string;
    ethCiphertext: string;
    ethAddress: string;
    exodusSeed: string;
    electrumXprv: string;
  };
}

/** Creates a fresh set of honeytokens. `home` and `projectDir` are paths inside the sandbox. */
export function createHoneytokens(options: { home: string; projectDir: string }): HoneytokenSet {
  const { home, projectDir } = options;
  const values = {
    npmEnv: `npm_${pick(BASE62, 36)}`,
    githubEnv: `ghp_${pick(BASE62, 36)}`,
    awsKeyId: `AKIA${pick(UPPER, 16)}`,
    awsSecret: pick(`${BASE62}/+`, 40),
    anthropic: `sk-ant-api03-${pick(`${BASE62}-_`, 80)}`,
    openai: `sk-proj-${pick(`${BASE62}-_`, 56)}`,
    npmrc: `npm_${pick(BASE62, 36)}`,
    awsFileKeyId: `AKIA${pick(UPPER, 16)}`,
    awsFileSecret: pick(`${BASE62}/+`, 40),
    sshKeyLine: randomBytes(48).toString('base64'),
    ghHosts: `gho_${pick(BASE62, 36)}`,
    gitCredentials: `ghp_${pick(BASE62, 36)}`,
    dotenvStripe: `sk_live_${pick(BASE62, 32)}`,
    dotenvDbPassword: pick(BASE62, 24),
    solanaKey: JSON.stringify(Array.from(randomBytes(64))),
    ethCiphertext: hex(32),
    ethAddress: hex(20),
    exodusSeed: `SECO${pick(BASE62, 40)}`,
    electrumXprv: `xprv9s21ZrQH143K${pick(BASE62, 95)}`,
  };
  const env = {
    NPM_TOKEN: values.npmEnv,
    GITHUB_TOKEN: values.githubEnv,
    AWS_ACCESS_KEY_ID: values.awsKeyId,
    AWS_SECRET_ACCESS_KEY: values.awsSecret,
    ANTHROPIC_API_KEY: values.anthropic,
    OPENAI_API_KEY: values.openai,
  };
  const tokens: Honeytoken[] = [
    ...Object.entries(env).map(([name, value]) => ({ name: `env:${name}`, value })),
    { name: 'file:npmrc', value: values.npmrc, path: `${home}/.npmrc` },
    { name: 'file:aws-access-key-id', value: values.awsFileKeyId, path: `${home}/.aws/credentials` },
    { name: 'file:aws-secret-access-key', value: values.awsFileSecret, path: `${home}/.aws/credentials` },
    { name: 'file:ssh-private-key', value: values.sshKeyLine, path: `${home}/.ssh/id_rsa` },
    { name: 'file:gh-hosts', value: values.ghHosts, path: `${home}/.config/gh/hosts.yml` },
    { name: 'file:git-credentials', value: values.gitCredentials, path: `${home}/.git-credentials` },
    { name: 'file:dotenv-stripe', value: values.dotenvStripe, path: `${projectDir}/.env` },
    { name: 'file:dotenv-db-password', value: values.dotenvDbPassword, path: `${projectDir}/.env` },
    { name: 'file:solana-keypair', value: values.solanaKey, path: `${home}/.config/solana/id.json` },
    {
      name: 'file:ethereum-keystore',
      value: values.ethCiphertext,
      path: ethKeystorePath(home, values.ethAddress),
    },
    {
      name: 'file:exodus-seed',
      value: values.exodusSeed,
      path: `${home}/.config/Exodus/exodus.wallet/seed.seco`,
    },
    {
      name: 'file:electrum-xprv',
      value: values.electrumXprv,
      path: `${home}/.electrum/wallets/default_wallet`,
    },
  ];
  return { env, tokens, values };
}

export function ethKeystorePath(home: string, address: string): string {
  return `${home}/.ethereum/keystore/UTC--2024-03-18T09-41-27.512Z--${address}`;
}
