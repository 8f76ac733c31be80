/** What npm's abbreviated ("corgi") packument is: its media type and the version fields it keeps. */

/** The media type of npm's abbreviated packument. */
export const ABBREVIATED_MEDIA_TYPE = 'application/vnd.npm.install-v1+json';

/** Version fields kept in the abbreviated form: what an installer needs. */
export const ABBREVIATED_VERSION_FIELDS = [
  'name',
  'version',
  'deprecated',
  'dependencies',
  'optionalDependencies',
  'devDependencies',
  'peerDependencies',
  'peerDependenciesMeta',
  'bundleDependencies',
  'bundledDependencies',
  'acceptDependencies',
  'bin',
  'directories',
  'dist',
  'engines',
  'os',
  'cpu',
  'libc',
  'funding',
  'license',
  '_hasShrinkwrap',
  'hasInstallScript',
] as const;
