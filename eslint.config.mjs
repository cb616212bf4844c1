// ESLint flat config: typescript-eslint's recommended rules on every TypeScript file, the few
// type-aware rules that catch real defects here (a promise nobody awaits) on the sources that
// tsc builds, and @eslint/js's recommended rules on the tools' JavaScript. Formatting (line
// length, quotes, commas) is Prettier's job (.prettierrc.json), so no stylistic rules here.
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import globals from 'globals';
import tseslint from 'typescript-eslint';

const TESTS = ['**/*.test.ts', '**/__tests__/**'];

export default defineConfig(
  {
    ignores: ['**/dist/**', '**/node_modules/**', '**/.cache/**', 'coverage/**', '.nx/**', '.turbo/**', '.lth/**', 'runs/**', 'datasets/**'],
  },
  { linterOptions: { reportUnusedDisableDirectives: 'error' } },
  js.configs.recommended,
  {
    files: ['**/*.mjs', '**/*.js', '**/*.cjs'],
    languageOptions: { globals: { ...globals.node } },
  },
  {
    files: ['**/*.ts'],
    extends: [tseslint.configs.recommended],
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      // `import type` keeps a type-only import out of the emitted require() calls (loading tfjs for a type).
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
    },
  },
  {
    // Type-aware: only files in a package's tsconfig (tests are not; SWC runs them untyped).
    files: ['packages/*/src/**/*.ts'],
    ignores: TESTS,
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
    },
  },
);
