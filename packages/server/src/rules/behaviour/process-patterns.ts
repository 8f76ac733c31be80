// What makes a command line suspicious at install or import. Pure matching on argv; each pattern
// names itself so the finding says which one fired.
import type { Severity } from '@secure-registry/shared';
import { executable, SHELLS } from './helpers.js';

export interface ProcessMatch {
  pattern: string;
  severity: Severity;
  why: string;
}

const DOWNLOADERS = '(?:curl|wget|fetch|aria2c|busybox\\s+wget)';
const PIPE_TO_SHELL = new RegExp(
  `\\b${DOWNLOADERS}\\b[^|;&]*\\|\\s*(?:sudo\\s+)?(?:/\\S*/)?(?:ba|da|z|k)?sh\\b`,
);
const SHELL_OF_DOWNLOAD = new RegExp(
  `\\b(?:ba|da|z)?sh\\s+(?:-\\w+\\s+)*(?:<\\(|-c\\s+["']?\\$\\()\\s*${DOWNLOADERS}\\b`,
);
const DOWNLOAD_THEN_RUN = new RegExp(
  `\\b${DOWNLOADERS}\\b.*(?:&&|;|\\|\\|)\\s*(?:chmod\\s+\\+?[0-7x]+|(?:ba|da|z)?sh\\s+\\S+|\\./\\S+|nohup\\b|setsid\\b)`,
);
const DEV_TCP = /\/dev\/(tcp|udp)\/[^\s/]+\/\d+/;

/** The bypass flags of AI coding CLIs that let them act without asking (Nx "s1ngularity"). */
const AI_BYPASS: Record<string, RegExp> = {
  claude: /^--dangerously-skip-permissions$|^--permission-mode(=|$)/,
  gemini: /^(--yolo|-y|--approval-mode(=yolo)?)$/,
  q: /^--trust-all-tools$/,
  codex: /^(--dangerously-bypass-approvals-and-sandbox|--full-auto|--yolo)$/,
  'cursor-agent': /^(--force|-f)$/,
  copilot: /^--allow-all-tools$/,
};

function shellCommand(argv: readonly string[]): string | undefined {
  const exe = executable(argv);
  if (!SHELLS.has(exe)) return undefined;
  const i = argv.findIndex((a, j) => j > 0 && /^-\w*c\w*$/.test(a));
  return i > 0 ? argv[i + 1] : undefined;
}

function npmSubcommand(argv: readonly string[]): string | undefined {
  const exe = executable(argv);
  let rest: readonly string[];
  if (exe === 'npm' || exe === 'pnpm' || exe === 'yarn') rest = argv.slice(1);
  else if (exe === 'node' && argv.some((a) => /npm-cli\.js$|\/bin\/npm$/.test(a))) {
    rest = argv.slice(argv.findIndex((a) => /npm-cli\.js$|\/bin\/npm$/.test(a)) + 1);
  } else return undefined;
  return rest.find((a) => !a.startsWith('-'));
}

/** The suspicious shapes of one command line (a process's argv or a decoy's tool + argv). */
export function matchProcess(argv: readonly string[]): ProcessMatch[] {
  const out: ProcessMatch[] = [];
  const exe = executable(argv);
  const args = argv.slice(1);
  const line = argv.join(' ');
  const script = shellCommand(argv);
  if (script !== undefined) {
    if (PIPE_TO_SHELL.test(script) || SHELL_OF_DOWNLOAD.test(script))
      out.push({
        pattern: 'pipe-to-shell',
        severity: 'critical',
        why: 'downloads a script and runs it in a shell',
      });
    else if (DOWNLOAD_THEN_RUN.test(script))
      out.push({ pattern: 'download-and-run', severity: 'high', why: 'downloads a file and runs it' });
  }
  if (DEV_TCP.test(line))
    out.push({ pattern: 'dev-tcp', severity: 'critical', why: 'redirects a shell to a /dev/tcp socket' });
  if (SHELLS.has(exe) && args.some((a) => /^-\w*i\w*$/.test(a) && !/c/.test(a)))
    out.push({ pattern: 'interactive-shell', severity: 'critical', why: 'starts an interactive shell' });
  if (/^(nc|ncat|netcat|nc\.traditional|nc\.openbsd)$/.test(exe) && args.some((a) => /^-\w*[ec]\w*$/.test(a)))
    out.push({
      pattern: 'netcat-exec',
      severity: 'critical',
      why: 'netcat executing a program for the network peer',
    });
  if (exe === 'socat' && args.some((a) => /^(exec|system):/i.test(a)))
    out.push({
      pattern: 'socat-exec',
      severity: 'critical',
      why: 'socat executing a program for the network peer',
    });
  const bypass = AI_BYPASS[exe];
  if (bypass) {
    out.push(
      args.some((a) => bypass.test(a))
        ? {
            pattern: 'ai-cli-bypass',
            severity: 'critical',
            why: `runs the ${exe} AI CLI with its permission checks off`,
          }
        : { pattern: 'ai-cli', severity: 'high', why: `runs the ${exe} AI CLI` },
    );
  }
  if (exe === 'trufflehog' || exe === 'gitleaks')
    out.push({ pattern: 'secret-scanner', severity: 'critical', why: `runs the ${exe} secret scanner` });
  const npm = npmSubcommand(argv);
  if (npm === 'publish' || npm === 'unpublish' || npm === 'dist-tag' || npm === 'owner')
    out.push({ pattern: 'npm-publish', severity: 'critical', why: `runs npm ${npm}` });
  else if (npm === 'whoami' || npm === 'token' || npm === 'adduser' || npm === 'login')
    out.push({ pattern: 'npm-account', severity: 'high', why: `runs npm ${npm}` });
  if (exe === 'git' && args.find((a) => !a.startsWith('-')) === 'push')
    out.push({ pattern: 'git-push', severity: 'critical', why: 'pushes to a git remote' });
  if (exe === 'gh') {
    const sub = args
      .filter((a) => !a.startsWith('-'))
      .slice(0, 2)
      .join(' ');
    if (/^auth token|^repo create|^secret|^api/.test(sub))
      out.push({ pattern: 'gh-token-use', severity: 'critical', why: `runs gh ${sub}` });
    else out.push({ pattern: 'gh', severity: 'high', why: `runs gh ${sub}`.trim() });
  }
  if (exe === 'crontab') {
    const edits =
      args.length === 0 || args.some((a) => a === '-' || a === '-r' || a === '-e' || !a.startsWith('-'));
    out.push(
      edits
        ? { pattern: 'crontab-write', severity: 'critical', why: 'installs or changes a crontab' }
        : { pattern: 'crontab', severity: 'high', why: 'reads the crontab' },
    );
  }
  if (exe === 'sudo' || exe === 'doas' || exe === 'pkexec')
    out.push({ pattern: 'sudo', severity: 'high', why: `asks for root (${exe})` });
  if (exe === 'aws' && args.some((a) => /^(sts|secretsmanager|ssm|configure|iam)$/.test(a)))
    out.push({ pattern: 'cloud-cli', severity: 'high', why: `runs aws ${args.slice(0, 2).join(' ')}` });
  if (exe === 'docker' && args.some((a) => /^(-v|--volume|--privileged)$|^\/:/.test(a)))
    out.push({ pattern: 'docker-host-mount', severity: 'high', why: 'runs a container with host access' });
  return out;
}
