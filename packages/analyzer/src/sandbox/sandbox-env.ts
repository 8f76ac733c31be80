// The environment a developer's shell (and npm, for lifecycle scripts) gives a package. Pure.
import type { Persona } from './layout.js';

export const NODE_IN_SANDBOX = '/usr/local/bin/node';
export const NPM_DIR_IN_SANDBOX = '/usr/local/lib/node_modules/npm';
export const RUNNER_IN_SANDBOX = `${NPM_DIR_IN_SANDBOX}/bin/npm-cli.js`;
/** A loader's failed open of `<prefix><index>` starts package `index`'s window (batch-runner.ts). */
export const LOAD_MARKER_PREFIX = `${NPM_DIR_IN_SANDBOX}/lib/.loading/`;
export const RUNNER_CONFIG_IN_SANDBOX = `${NPM_DIR_IN_SANDBOX}/lib/run-config.json`;
export const CA_BUNDLE_IN_SANDBOX = '/etc/ssl/certs/ca-certificates.crt';
const SYSTEM_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export function shellEnv(
  persona: Persona,
  honeytokenEnv: Record<string, string>,
  cwd: string,
): Record<string, string> {
  return {
    HOME: persona.home,
    USER: persona.user,
    LOGNAME: persona.user,
    SHELL: '/bin/bash',
    PATH: `${persona.home}/.local/bin:${SYSTEM_PATH}`,
    PWD: cwd,
    LANG: 'en_US.UTF-8',
    TERM: 'xterm-256color',
    COLORTERM: 'truecolor',
    EDITOR: 'vim',
    HOSTNAME: persona.hostname,
    XDG_CONFIG_HOME: `${persona.home}/.config`,
    XDG_SESSION_TYPE: 'wayland',
    DESKTOP_SESSION: 'ubuntu',
    NODE_EXTRA_CA_CERTS: CA_BUNDLE_IN_SANDBOX,
    SSL_CERT_FILE: CA_BUNDLE_IN_SANDBOX,
    ...honeytokenEnv,
  };
}

/** What npm adds for lifecycle scripts (`npm_lifecycle_event`/`_script` are set per script by the runner). */
export function npmLifecycleEnv(options: {
  persona: Persona;
  packageName: string;
  packageVersion: string;
  packageDir: string;
  nodeVersion: string;
}): Record<string, string> {
  const { persona, packageName, packageVersion, packageDir, nodeVersion } = options;
  const bins = [
    `${packageDir}/node_modules/.bin`,
    `${persona.projectDir}/node_modules/.bin`,
    `${NPM_DIR_IN_SANDBOX}/node_modules/@npmcli/run-script/lib/node-gyp-bin`,
  ];
  return {
    PATH: `${bins.join(':')}:${persona.home}/.local/bin:${SYSTEM_PATH}`,
    INIT_CWD: persona.projectDir,
    NODE: NODE_IN_SANDBOX,
    COLOR: '1',
    EDITOR: 'vim',
    npm_command: 'install',
    npm_package_name: packageName,
    npm_package_version: packageVersion,
    npm_package_json: `${packageDir}/package.json`,
    npm_config_user_agent: `npm/10.9.3 node/${nodeVersion} linux x64 workspaces/false`,
    npm_config_userconfig: `${persona.home}/.npmrc`,
    npm_config_cache: `${persona.home}/.npm`,
    npm_config_local_prefix: persona.projectDir,
    npm_config_global_prefix: '/usr/local',
    npm_config_prefix: '/usr/local',
    npm_config_globalconfig: '/usr/local/etc/npmrc',
    npm_config_init_module: `${persona.home}/.npm-init.js`,
    npm_config_node_gyp: `${NPM_DIR_IN_SANDBOX}/node_modules/node-gyp/bin/node-gyp.js`,
    npm_config_noproxy: '',
    npm_execpath: `${NPM_DIR_IN_SANDBOX}/bin/npm-cli.js`,
    npm_node_execpath: NODE_IN_SANDBOX,
  };
}
