// ESLint (flat config): typescript-eslint's recommended rules on all our TypeScript and
// scripts. Formatting is Prettier's job (.prettierrc), not ESLint's.
import eslint from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

export default tseslint.config(
  { ignores: ['dist/**', 'out/**', 'node_modules/**', 'test-results/**', '.vscode-test/**', 'media/**'] },
  eslint.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      // `_`-prefixed names are deliberately unused (callback signatures, destructuring).
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      // Modules named for what they hold stay small: a file over 400 lines or a function over 80
      // (every line counted) needs a comment saying why, on an eslint-disable line.
      'max-lines': ['error', { max: 400 }],
      'max-lines-per-function': ['error', { max: 80 }],
    },
  },
  // Webviews run in the browser; e2e tests hand functions to page.evaluate, which run there too.
  { files: ['webview/**', 'test/e2e/**'], languageOptions: { globals: { ...globals.browser } } },
  // Tests poke at untyped JSON (schemas, hand-broken files) on purpose.
  { files: ['test/**'], rules: { '@typescript-eslint/no-explicit-any': 'off' } },
  { files: ['**/*.mjs', '**/*.js'], rules: { '@typescript-eslint/no-require-imports': 'off' } },
);
