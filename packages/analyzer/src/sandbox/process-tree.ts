// The sandbox's process tree: what `ps` shows on the developer laptop the honeypot plays. PID 1 is
// the sandbox's own init (a small Perl program, INIT_SCRIPT): it forks every process below with its
// pid, user, name and command line, and the runner (playing npm) at the end of an ordinary desktop
// ancestry — init → systemd --user → gnome-terminal-server → bash → npm. Malware that counts
// processes, looks for a login shell above it or reads /proc/1 sees a machine in use, not a
// container. Pure: returns the tree and the init's plan; sandbox-process.ts runs them.
import type { Persona } from './layout.js';

export interface TreeProcess {
  /** The pid it gets in the sandbox's pid namespace (ns_last_pid is set before its fork). */
  pid: number;
  /** /proc/PID/cmdline (one string: the init cannot put NULs between arguments). */
  cmdline: string;
  /** /proc/PID/comm (at most 15 bytes). */
  comm: string;
  /** `persona`: the developer; a number: a system user's uid (its group is the same number). */
  user: 'persona' | number;
  children?: TreeProcess[];
  /** The runner (npm) is started here: its own command line and name come from its exec. */
  runner?: true;
}

/** System users of the tree (uid = gid), all below 1000 like Debian's. */
const ROOT = 0;
const MESSAGEBUS = 102;
const SYSLOG = 104;
const AVAHI = 105;
const POLKITD = 997;
const RTKIT = 107;
const COLORD = 110;

const sys = (pid: number, user: number, cmdline: string, comm?: string): TreeProcess => ({
  pid,
  user,
  cmdline,
  comm: comm ?? basenameOf(cmdline),
});
const usr = (pid: number, cmdline: string, children?: TreeProcess[], comm?: string): TreeProcess => ({
  pid,
  user: 'persona',
  cmdline,
  comm: comm ?? basenameOf(cmdline),
  ...(children ? { children } : {}),
});

function basenameOf(cmdline: string): string {
  const exe = cmdline.split(' ')[0] ?? cmdline;
  return exe.slice(exe.lastIndexOf('/') + 1).slice(0, 15);
}

/**
 * A GNOME session on Debian/Ubuntu about three days after boot, with VS Code and Firefox open and
 * the project's terminal.
 */
export function processTree(persona: Persona): TreeProcess {
  const run = `/run/user/${persona.uid}`;
  const session = usr(1412, '/lib/systemd/systemd --user', [
    usr(2861, '/usr/libexec/gnome-terminal-server', [
      usr(2874, 'bash', [{ pid: 5203, user: 'persona', cmdline: '', comm: '', runner: true }]),
      usr(3390, 'bash'),
    ]),
    usr(1413, '(sd-pam)'),
    usr(1431, '/usr/bin/pipewire'),
    usr(1432, '/usr/bin/wireplumber'),
    usr(1438, '/usr/bin/dbus-daemon --session --address=systemd: --nofork --nopidfile --systemd-activation --syslog-only', undefined, 'dbus-daemon'),
    usr(1447, `/usr/bin/gnome-keyring-daemon --foreground --components=pkcs11,secrets --control-directory=${run}/keyring`),
    usr(1462, '/usr/libexec/gnome-session-ctl --monitor'),
    usr(1469, '/usr/libexec/gnome-session-binary --systemd-service --session=ubuntu', undefined, 'gnome-session-b'),
    usr(1492, '/usr/bin/gnome-shell', [usr(1688, '/usr/bin/Xwayland :0 -rootless -noreset -accessx -core -auth /run/user/1000/.mutter-Xwaylandauth.K3Q2X2 -listen 4 -listen 5 -displayfd 6 -initfd 7 -byteswappedclients')]),
    usr(1521, '/usr/libexec/at-spi-bus-launcher --launch-immediately'),
    usr(1530, '/usr/libexec/gvfsd'),
    usr(1566, '/usr/libexec/xdg-permission-store'),
    usr(1571, '/usr/libexec/gnome-shell-calendar-server', undefined, 'gnome-shell-cal'),
    usr(1583, '/usr/libexec/evolution-source-registry', undefined, 'evolution-sourc'),
    usr(1597, '/usr/libexec/goa-daemon'),
    usr(1611, '/usr/libexec/gvfs-udisks2-volume-monitor', undefined, 'gvfs-udisks2-vo'),
    usr(1702, '/usr/libexec/gsd-power'),
    usr(1705, '/usr/libexec/gsd-media-keys'),
    usr(1731, '/usr/libexec/xdg-desktop-portal'),
    usr(1790, '/usr/libexec/tracker-miner-fs-3', undefined, 'tracker-miner-f'),
    usr(2210, '/usr/share/code/code --unity-launch', [
      usr(2236, '/usr/share/code/code --type=zygote', undefined, 'code'),
      usr(2301, '/usr/share/code/code --type=utility --utility-sub-type=node.mojom.NodeService --lang=en-US', undefined, 'code'),
    ], 'code'),
    usr(2455, '/usr/lib/firefox/firefox', [
      usr(2519, '/usr/lib/firefox/firefox -contentproc -childID 1 -isForBrowser -prefsLen 31122 -parentBuildID 20251103153041 -appDir /usr/lib/firefox/browser 2455 true tab', undefined, 'Isolated Web Co'),
    ], 'firefox'),
  ]); // prettier-ignore
  return {
    pid: 1,
    user: ROOT,
    cmdline: '/sbin/init',
    comm: 'systemd',
    children: [
      session,
      sys(318, ROOT, '/lib/systemd/systemd-journald'),
      sys(352, ROOT, '/lib/systemd/systemd-udevd'),
      sys(611, AVAHI, 'avahi-daemon: running [' + persona.hostname + '.local]', 'avahi-daemon'),
      sys(613, ROOT, '/usr/sbin/cron -f -P', 'cron'),
      sys(
        615,
        MESSAGEBUS,
        '@dbus-daemon --system --address=systemd: --nofork --nopidfile --systemd-activation --syslog-only',
        'dbus-daemon',
      ),
      sys(619, ROOT, '/usr/sbin/NetworkManager --no-daemon', 'NetworkManager'),
      sys(623, ROOT, '/usr/libexec/accounts-daemon', 'accounts-daemon'),
      sys(627, POLKITD, '/usr/libexec/polkitd --no-debug', 'polkitd'),
      sys(631, SYSLOG, '/usr/sbin/rsyslogd -n -iNONE', 'rsyslogd'),
      sys(634, ROOT, '/lib/systemd/systemd-logind'),
      sys(640, ROOT, '/usr/libexec/udisks2/udisksd'),
      sys(688, ROOT, '/usr/sbin/cupsd -l', 'cupsd'),
      sys(790, ROOT, '/usr/sbin/gdm3', 'gdm3'),
      sys(1104, RTKIT, '/usr/libexec/rtkit-daemon', 'rtkit-daemon'),
      sys(1158, COLORD, '/usr/libexec/colord'),
      sys(1397, ROOT, 'gdm-session-worker [pam/gdm-password]', 'gdm-session-wor'),
    ],
  };
}

/** Every process of the tree, depth first (the runner's place included). */
export function treeProcesses(tree: TreeProcess): TreeProcess[] {
  return [tree, ...(tree.children ?? []).flatMap(treeProcesses)];
}

/** The supplementary groups of the developer's processes: adm, sudo and docker, as /etc/group says. */
export const PERSONA_GROUPS = [4, 27, 998];

/**
 * The init's plan: one line per process, depth first, tab-separated — depth, pid, uid, gid, the
 * supplementary groups, comm, cmdline, `runner` — for INIT_SCRIPT, which has no JSON parser
 * (perl-base only).
 */
export function initPlan(tree: TreeProcess, persona: Persona): string {
  const lines: string[] = [];
  const visit = (p: TreeProcess, depth: number): void => {
    const uid = p.user === 'persona' ? persona.uid : p.user;
    const gid = p.user === 'persona' ? persona.gid : p.user;
    const groups = p.user === 'persona' ? [gid, ...PERSONA_GROUPS] : [gid];
    const fields = [depth, p.pid, uid, gid, groups.join(' '), p.comm, p.cmdline, p.runner ? 'runner' : ''];
    if (fields.some((f) => /[\t\n]/.test(String(f))))
      throw new Error(`process tree entry ${p.pid} has a tab or newline`);
    lines.push(fields.join('\t'));
    for (const child of p.children ?? []) visit(child, depth + 1);
  };
  visit(tree, 0);
  return lines.join('\n');
}

/**
 * The system call numbers of prctl(2) (naming a process, clearing ambient capabilities) and
 * capset(2), as `prctl,capset`; `0,0` where not known (the init then ends the run: fail closed).
 */
export function initSyscalls(arch: string = process.arch): string {
  return arch === 'x64' ? '157,126' : arch === 'arm64' ? '167,91' : '0,0';
}

/**
 * PID 1 of the sandbox, run as `perl -e INIT_SCRIPT PLAN SYSCALLS RUNNER...` by bubblewrap (as root of
 * the sandbox's user namespace, with only CAP_SETUID, CAP_SETGID and CAP_SYS_ADMIN there). Every
 * process it starts gives up all capabilities (capset, ambient set cleared) before it runs on. For each
 * process of the plan, depth first and the runner's branch first: set ns_last_pid, fork; the child
 * takes its name and command line, forks its own children (still root), then its user and groups (which leaves it without capabilities and not dumpable:
 * /proc/PID/exe and environ are closed to the package, as they are for processes a real init
 * started), and sleeps; the runner's place execs the runner instead.
 * A parent waits until a child with children of its own has its subtree up (a pipe the child
 * closes) before the next fork, so the pids come out as planned. The runner's place, forked first,
 * waits at a gate (fd 5) until the whole tree is up before it execs node: node's threads take pids too,
 * and started during the forks they pushed processes off their planned pids (which the host relies on
 * to tell the package's processes from the desktop's, quiescence.ts). The runner waits at the gate
 * again (sandbox-runner.ts), where it is open by then. The processes on the runner's branch wait for their child and exit with its status; init reaps
 * every orphan and exits with the branch's status, which ends the pid namespace.
 * Uses only what perl-base ships (Debian's essential Perl). PERL_BADLANG (no warning about the
 * persona's locale, which the host may not have) is the init's own: the runner's environment is
 * the sandbox's without it, every other process's is empty.
 */
export const INIT_SCRIPT = String.raw`
use strict;
my ($plan, $syscalls, @runner) = @ARGV;
my ($prctl, $capset) = split /,/, $syscalls;
my (@stack, $root);
for my $line (split /\n/, $plan) {
  my ($depth, $pid, $uid, $gid, $groups, $comm, $cmdline, $runner) = split /\t/, $line, -1;
  my $p = { pid => $pid, uid => $uid, gid => $gid, groups => $groups, comm => $comm, cmdline => $cmdline, runner => $runner eq 'runner', kids => [] };
  if ($depth == 0) { $root = $p } else { push @{$stack[$depth - 1]{kids}}, $p }
  $stack[$depth] = $p;
}
sub mark { my ($p) = @_; my $on = $p->{runner}; for my $k (@{$p->{kids}}) { $on = 1 if mark($k) } $p->{branch} = $on; return $on }
mark($root);
# The runner's branch first (its place waits at the gate while the rest is forked).
sub kids { my ($p) = @_; return ((grep { $_->{branch} } @{$p->{kids}}), (grep { !$_->{branch} } @{$p->{kids}})) }
sub fdclose { my ($fd) = @_; my $h; close($h) if open($h, '<&=', $fd) }
sub quiet { fdclose($_) for 0 .. 4 }
my %runnerEnv = %ENV;
delete $runnerEnv{PERL_BADLANG};
sub name {
  my ($p) = @_;
  %ENV = ();
  $0 = $p->{cmdline};
  my $comm = $p->{comm};
  syscall($prctl, 15, $comm) if $prctl;
}
sub become {
  my ($p) = @_;
  if ($p->{uid} == 0 && $p->{gid} == 0) { nocaps(); return }
  $) = "$p->{gid} $p->{groups}";
  $( = $p->{gid};
  ($<, $>) = ($p->{uid}, $p->{uid});
  exit 126 if $< != $p->{uid} || $> != $p->{uid};
  nocaps();
}
# No capability left, none to regain at exec (ambient cleared): fail closed where that cannot be done.
sub nocaps {
  exit 126 unless $prctl && $capset;
  syscall($prctl, 47, 4, 0, 0, 0) == 0 or exit 126;
  my $header = pack('LL', 0x20080522, 0);
  my $data = pack('L6', 0, 0, 0, 0, 0, 0);
  syscall($capset, $header, $data) == 0 or exit 126;
}
# The gate: the runner (exec'd first, so node starts while the rest is forked) waits on fd 5 until
# every process of the tree has closed its copy of the write end, i.e. the whole tree is up.
use POSIX ();
my ($gateR, $gateW);
# At fds 10 and up: the lowest free ones can be 4 and 5 (bubblewrap closed its arguments' fd 4), which
# quiet() closes and the runner's dup2 onto fd 5 would overwrite.
{
  local $^F = 255;
  pipe(my $r, my $w) or exit 126;
  my ($rfd, $wfd) = (fcntl($r, POSIX::F_DUPFD, 10), fcntl($w, POSIX::F_DUPFD, 10));
  exit 126 unless $rfd && $wfd;
  close $r; close $w;
  open($gateR, '<&=', $rfd + 0) && open($gateW, '>&=', $wfd + 0) or exit 126;
}
sub ungate { close $gateR; close $gateW }
# ns_last_pid, kept open: written (not a traced open) before each fork.
my $lastpid;
open($lastpid, '>', '/proc/sys/kernel/ns_last_pid');
sub status { my ($s) = @_; return ($s & 127) ? 128 + ($s & 127) : $s >> 8 }
my @ready;
sub spawn {
  my ($p) = @_;
  my ($r, $w);
  if (@{$p->{kids}}) { pipe($r, $w) or return }
  if ($lastpid) { sysseek($lastpid, 0, 0); syswrite($lastpid, $p->{pid} - 1) }
  my $pid = fork;
  return unless defined $pid;
  if ($pid == 0) {
    close $r if $r;
    close $_ for @ready;
    @ready = $w ? ($w) : ();
    if ($p->{runner}) {
      close $lastpid if $lastpid;
      POSIX::dup2(fileno($gateR), 5) or exit 126;
      ungate();
      # node starts once the tree is up: its threads would take the pids planned for the rest.
      while (1) { my $n = POSIX::read(5, my $byte, 1); last if !defined($n) || $n == 0 }
      become($p);
      %ENV = %runnerEnv;
      exec { $runner[0] } @runner;
      exit 127;
    }
    name($p);
    my $branch;
    for my $k (kids($p)) { my $c = spawn($k); $branch = $c if $k->{branch} }
    quiet();
    ungate();
    close $lastpid if $lastpid;
    become($p);
    close $w if $w;
    if ($p->{branch}) { waitpid($branch, 0); exit status($?) }
    sleep 86400 while 1;
  }
  if ($w) { close $w; read($r, my $ready, 1); close $r }
  return $pid;
}
name($root);
my $branch;
for my $k (kids($root)) { my $c = spawn($k); $branch = $c if $k->{branch} }
# What starts from now on (npm's children, the package's) gets pids after the newest process.
sub newest { my ($p) = @_; my $n = $p->{pid}; for my $k (@{$p->{kids}}) { my $m = newest($k); $n = $m if $m > $n } return $n }
if ($lastpid) { sysseek($lastpid, 0, 0); syswrite($lastpid, newest($root) + 6) }
quiet();
ungate();
close $lastpid if $lastpid;
exit 1 unless defined $branch;
while (1) {
  my $pid = wait;
  exit 1 if $pid < 0;
  exit status($?) if $pid == $branch;
}
`;
