import type { Rule } from './types.js';

/** Without a readable package.json the install scripts cannot be known: hold it. */
export const manifestInvalid: Rule = {
  id: 'manifest-invalid',
  description: 'The tarball has no readable package.json',
  evaluate(ctx) {
    const report = ctx.static;
    if (!report || report.errors.length > 0) return [];
    const { manifest } = report;
    if (manifest.found && manifest.error === undefined) return [];
    return [
      {
        rule: this.id,
        severity: 'high',
        message: manifest.error ?? 'package.json missing from the tarball',
        evidence: [{ kind: 'file', path: 'package.json', detail: manifest.error ?? 'missing' }],
      },
    ];
  },
};
