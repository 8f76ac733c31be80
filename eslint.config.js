import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

const restrictSideEffects = (allowed) => ({
  files: ['packages/*/src/**/*.{ts,tsx}'],
  ignores: [...allowed, '**/*.test.ts', '**/*.test.tsx', '**/test-support/**'],
  rules: {
    'no-restricted-imports': [
      'error',
      {
        paths: [
          { name: 'node:child_process', message: 'spawn only from the sandbox / npm integration modules' },
          { name: 'child_process', message: 'use node:child_process from the sanctioned module' },
        ],
      },
    ],
  },
});

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', '**/*.tsbuildinfo', 'fixtures/**', '**/fixtures/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  // Only the sandbox and the npm integration spawn processes.
  restrictSideEffects([
    'packages/analyzer/src/sandbox/**',
    'packages/cli/src/services/npm.ts',
    'packages/cli/src/services/npm-*.ts',
    'packages/cli/src/services/git-hook.ts',
  ]),
  // e2e uses the packages as their users do: through their public entry points only.
  {
    files: ['e2e/src/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/packages/*/dist/**', '**/packages/*/src/**', '@secure-registry/*/**'],
              message: "import the package's public entry (`@secure-registry/<name>`)",
            },
          ],
        },
      ],
    },
  },
  // Printing and exiting belong to entry points and the UI layer.
  {
    files: ['packages/*/src/**/*.{ts,tsx}'],
    ignores: [
      '**/*.test.ts',
      '**/*.test.tsx',
      '**/test-support/**',
      'packages/cli/src/entry.ts',
      'packages/cli/src/action/main.ts',
      'packages/cli/src/ui/**',
      'packages/cli/src/commands/**',
      'packages/server/src/entry.ts',
      'packages/server/src/cli/**',
      'packages/analyzer/src/sandbox/runtime/**',
    ],
    rules: {
      'no-console': 'error',
      'no-restricted-properties': [
        'error',
        { object: 'process', property: 'exit', message: 'exit only from entry points' },
      ],
    },
  },
);
