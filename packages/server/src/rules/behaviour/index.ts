// The behaviour rules: findings from the sandbox's behaviour reports (install, import, browser).
import type { Rule } from '../types.js';
import { browserHookRuntime } from './browser-hook-runtime.js';
import { ciWorkflowWrite } from './ci-workflow-write.js';
import { cloudMetadata } from './cloud-metadata.js';
import { credentialReadThenEgress } from './credential-read-then-egress.js';
import { detachedPayload } from './detached-payload.js';
import { dnsTunnelling } from './dns-tunnelling.js';
import { environmentDifferential } from './environment-differential.js';
import { homeWrite } from './home-write.js';
import { honeytokenEgress } from './honeytoken-egress.js';
import { installNetwork } from './install-network.js';
import { packageTampering } from './package-tampering.js';
import { persistenceWrite } from './persistence-write.js';
import { projectDestruction } from './project-destruction.js';
import { projectWrite } from './project-write.js';
import { reverseShell } from './reverse-shell.js';
import { sandboxFailure } from './sandbox-failure.js';
import { suspiciousProcess } from './suspicious-process.js';

export const BEHAVIOUR_RULES: readonly Rule[] = [
  sandboxFailure,
  honeytokenEgress,
  credentialReadThenEgress,
  suspiciousProcess,
  reverseShell,
  ciWorkflowWrite,
  persistenceWrite,
  packageTampering,
  projectDestruction,
  projectWrite,
  homeWrite,
  dnsTunnelling,
  cloudMetadata,
  installNetwork,
  browserHookRuntime,
  detachedPayload,
  environmentDifferential,
];
