// Sensitivity classes of the paths a package touches. Pure: paths only, never the file system.
import type { FileClass } from '@secure-registry/shared';
import { expandHome, isWithin } from './paths.js';

export interface PathContext {
  home: string;
  projectDir: string;
  packageDir: string;
  /** Absolute (or `~/`) paths of the honeytoken files planted for this run. */
  honeytokenPaths?: readonly string[];
  /** Scratch directories whose writes are not reported. Default /tmp, /var/tmp, /dev/shm. */
  tmpDirs?: readonly string[];
}

export type ReportOp = 'read' | 'write' | 'delete';

const DEFAULT_TMP = ['/tmp', '/var/tmp', '/dev/shm'];

/** Paths relative to HOME (prefix match when ending in `/`). */
const WALLET_HOME = [
  '.config/solana/', '.ethereum/keystore/', '.config/Exodus/', '.exodus/', '.electrum/', '.bitcoin/',
  'Library/Application Support/Exodus/', '.config/atomic/', 'Library/Ethereum/keystore/',
]; // prettier-ignore
const PERSISTENCE_HOME = [
  '.bashrc', '.bash_profile', '.bash_login', '.bash_logout', '.profile', '.zshrc', '.zprofile', '.zshenv',
  '.zlogin', '.config/fish/config.fish', '.config/autostart/', '.config/systemd/user/', '.ssh/authorized_keys',
  '.ssh/rc', 'Library/LaunchAgents/', '.local/share/systemd/user/', '.xprofile', '.xinitrc',
]; // prettier-ignore
const PERSISTENCE_ABS = [
  '/etc/profile', '/etc/profile.d/', '/etc/bash.bashrc', '/etc/zsh/', '/etc/cron.d/', '/etc/crontab',
  '/etc/cron.hourly/', '/etc/cron.daily/', '/var/spool/cron/', '/etc/systemd/', '/lib/systemd/system/',
  '/etc/ld.so.preload', '/etc/rc.local', '/etc/init.d/', '/Library/LaunchAgents/', '/Library/LaunchDaemons/',
  '/etc/sudoers', '/etc/sudoers.d/',
]; // prettier-ignore
const CREDENTIALS_HOME = [
  '.npmrc', '.yarnrc', '.yarnrc.yml', '.ssh/', '.aws/', '.config/gh/', '.git-credentials', '.docker/config.json',
  '.netrc', '.pypirc', '.kube/', '.config/gcloud/', '.azure/', '.gnupg/', '.config/hub', '.bash_history',
  '.zsh_history', '.config/google-chrome/', '.config/chromium/', '.config/BraveSoftware/', '.mozilla/firefox/',
  'snap/chromium/', '.config/microsoft-edge/', 'Library/Application Support/Google/Chrome/',
  'Library/Keychains/', '.terraform.d/credentials.tfrc.json', '.config/op/', '.vault-token',
]; // prettier-ignore
/** Browser extension ids of wallets (MetaMask, Phantom, Coinbase Wallet, Trust Wallet). */
const WALLET_EXTENSIONS = [
  'nkbihfbeogaeaoehlefnkodbefgpgknn', 'bfnaelmomeimhlpmgjnjophhpkkoljpa', 'hnfanknocfeofbddgcijnmhnfnkdnaad',
  'egjidjbpglichdcondbcbdnbeeppgdph',
]; // prettier-ignore
const CI_FILES =
  /(^|\/)(\.github\/(workflows|actions)(\/|$)|\.gitlab-ci\.yml$|\.circleci(\/|$)|\.travis\.yml$|azure-pipelines\.yml$|Jenkinsfile$|\.buildkite(\/|$)|bitbucket-pipelines\.yml$|\.drone\.yml$)/;

function matchesHome(rel: string, list: readonly string[]): boolean {
  return list.some((p) => (p.endsWith('/') ? rel.startsWith(p) || `${rel}/` === p : rel === p));
}

function matchesAbs(path: string, list: readonly string[]): boolean {
  return list.some((p) => (p.endsWith('/') ? path.startsWith(p) || `${path}/` === p : path === p));
}

/** The package directory under a `node_modules` that `path` is in (`…/node_modules/@a/b`), if any. */
export function packageRootOf(path: string): string | undefined {
  const i = path.lastIndexOf('/node_modules/');
  if (i < 0) return undefined;
  const rest = path.slice(i + '/node_modules/'.length).split('/');
  const first = rest[0];
  if (!first || first.startsWith('.')) return undefined;
  const name = first.startsWith('@') && rest[1] ? `${first}/${rest[1]}` : first;
  return `${path.slice(0, i)}/node_modules/${name}`;
}

/**
 * The class of a path for the report, or undefined when it is not worth reporting (the package's
 * own files, scratch space, ordinary system files read by any program).
 */
export function classifyPath(path: string, op: ReportOp, ctx: PathContext): FileClass | undefined {
  const home = ctx.home.replace(/\/$/, '');
  if (ctx.honeytokenPaths?.some((p) => expandHome(p, home) === path)) return 'honeytoken';
  if (isWithin(path, ctx.packageDir)) return undefined;
  const rel = isWithin(path, home) ? path.slice(home.length + 1) : undefined;
  if (rel !== undefined) {
    if (matchesHome(rel, WALLET_HOME) || WALLET_EXTENSIONS.some((id) => rel.includes(`/${id}`)))
      return 'wallet';
    if (matchesHome(rel, PERSISTENCE_HOME)) return 'persistence';
  }
  if (matchesAbs(path, PERSISTENCE_ABS)) return 'persistence';
  // Git hooks anywhere outside the package (the project's, or another repository's).
  if (/\/\.git\/hooks\/[^/]+$/.test(path) && op !== 'read') return 'persistence';
  if (rel !== undefined && matchesHome(rel, CREDENTIALS_HOME)) return 'credentials';
  if (/(^|\/)\.env(\.[\w.-]+)?$/.test(path) && !/\.env\.(example|sample|template)$/.test(path))
    return 'credentials';
  if (isWithin(path, ctx.projectDir) && /\/\.npmrc$/.test(path)) return 'credentials';
  if (CI_FILES.test(path)) return 'ci-config';
  const pkgRoot = packageRootOf(path);
  if (op === 'read') {
    // Reads: only HOME and the project (outside node_modules) are worth reporting; the system and
    // other packages (dependencies being loaded) are not.
    if (pkgRoot !== undefined) return undefined;
    if (rel !== undefined || isWithin(path, ctx.projectDir)) return 'outside-package';
    return undefined;
  }
  if (pkgRoot !== undefined) return 'other-package';
  const tmp = ctx.tmpDirs ?? DEFAULT_TMP;
  if (tmp.some((t) => isWithin(path, t))) return undefined;
  return 'outside-package';
}
