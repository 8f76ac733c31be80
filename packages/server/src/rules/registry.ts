import { createHash } from 'node:crypto';
import { analysisError } from './analysis-error.js';
import { BEHAVIOUR_RULES } from './behaviour/index.js';
import { browserHook } from './browser-hook.js';
import { credentialAccess } from './credential-access.js';
import { envDump } from './env-dump.js';
import { exfilEndpoint } from './exfil-endpoint.js';
import { extractionLimits } from './extraction-limits.js';
import { hostileTarball } from './hostile-tarball.js';
import { installScriptNew } from './install-script-new.js';
import { installScriptUndeclared } from './install-script-undeclared.js';
import { installScript } from './install-script.js';
import { maintainerChange } from './maintainer-change.js';
import { manifestConfusion } from './manifest-confusion.js';
import { manifestInvalid } from './manifest-invalid.js';
import { obfuscatedBrowserHook } from './obfuscated-browser-hook.js';
import { obfuscation } from './obfuscation.js';
import { provenanceLost } from './provenance-lost.js';
import { releaseAge } from './release-age.js';
import { shellDownloader } from './shell-downloader.js';
import type { Rule } from './types.js';
import { typosquat } from './typosquat.js';

/**
 * Bump when any rule's logic or severity changes. Adding or removing a rule changes
 * RULE_SET_VERSION by itself (the ids are part of it).
 */
export const RULES_REVISION = 6;

export const RULES: readonly Rule[] = [
  analysisError,
  hostileTarball,
  extractionLimits,
  manifestInvalid,
  manifestConfusion,
  installScript,
  installScriptNew,
  installScriptUndeclared,
  shellDownloader,
  credentialAccess,
  envDump,
  exfilEndpoint,
  obfuscation,
  obfuscatedBrowserHook,
  browserHook,
  typosquat,
  releaseAge,
  maintainerChange,
  provenanceLost,
  ...BEHAVIOUR_RULES,
];

/** Identifies the rule set a verdict was produced with, e.g. `r1-3f2a9c1b`. */
export function ruleSetVersionOf(rules: readonly Rule[], revision: number = RULES_REVISION): string {
  const ids = rules
    .map((rule) => rule.id)
    .sort()
    .join('\n');
  return `r${revision}-${createHash('sha256').update(ids).digest('hex').slice(0, 8)}`;
}

export const RULE_SET_VERSION = ruleSetVersionOf(RULES);
