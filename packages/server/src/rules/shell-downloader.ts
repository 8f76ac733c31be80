import type { CodeSignal } from '@secure-registry/analyzer';
import { evidenceOf, signalsOf } from './evidence.js';
import type { Rule, RuleHit } from './types.js';

function isShellText(signal: CodeSignal): boolean {
  return (
    signal.file.startsWith('package.json#') ||
    // A gyp command expansion or action (`binding.gyp#expansion`): a shell command node-gyp runs.
    /\.gypi?#/.test(signal.file) ||
    /\.(?:sh|bash|zsh|command|ps1|bat|cmd)$|^[^.]*$/.test(signal.file)
  );
}

/**
 * Droppers and reverse shells. In a script or a shell file run at install: `critical`. In
 * JavaScript run at install, handed directly to exec/spawn: `critical`; only present as a string
 * (installers print `curl … | bash` as advice, e.g. bun's install.js): `medium`, the sandbox sees
 * whether it runs. In import code: `medium`. A bare curl/wget in an install script is how some
 * prebuilt binaries are fetched: `medium`, named as such.
 */
export const shellDownloader: Rule = {
  id: 'shell-downloader',
  description: 'Pipe-to-shell downloads, download-and-run, reverse shells in install or import code',
  evaluate(ctx) {
    const signals = signalsOf(ctx.static, 'shell-downloader');
    const strong = signals.filter((s) => s.strength === 'strong');
    const hits: RuleHit[] = [];
    const inScripts = strong.filter((s) => s.reach.install && isShellText(s));
    const inInstallJs = strong.filter((s) => s.reach.install && !isShellText(s));
    const executed = inInstallJs.filter((s) => s.pattern === 'exec-dropper');
    const inImport = strong.filter((s) => !s.reach.install && s.reach.import);
    const describe = (list: CodeSignal[]): string => [...new Set(list.map((s) => s.pattern))].join(', ');
    if (inScripts.length > 0) {
      hits.push({
        rule: this.id,
        severity: 'critical',
        message: `install script runs a shell dropper (${describe(inScripts)})`,
        evidence: evidenceOf(inScripts),
      });
    }
    if (executed.length > 0) {
      hits.push({
        rule: this.id,
        severity: 'critical',
        message: 'code run at install executes a shell dropper command',
        evidence: evidenceOf(executed),
      });
    } else if (inInstallJs.length > 0) {
      hits.push({
        rule: this.id,
        severity: 'medium',
        message: `code run at install contains a shell dropper command string (${describe(inInstallJs)})`,
        evidence: evidenceOf(inInstallJs),
      });
    }
    if (inImport.length > 0) {
      hits.push({
        rule: this.id,
        severity: 'medium',
        message: `code loaded at import contains a shell dropper command (${describe(inImport)})`,
        evidence: evidenceOf(inImport),
      });
    }
    const bare = signals.filter((s) => s.strength === 'weak' && s.reach.install);
    if (bare.length > 0 && hits.length === 0) {
      hits.push({
        rule: this.id,
        severity: 'medium',
        message: 'install script downloads with curl/wget (possibly a prebuilt binary)',
        evidence: evidenceOf(bare),
      });
    }
    return hits;
  },
};
