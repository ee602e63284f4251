// Lint the TypeScript and JavaScript sources with typescript-eslint's recommended rules; build
// output (dist/, the dist-*/ scratch builds) and committed model assets are not sources. The
// shipped code (src/, plugins/) also gets the type-checked rules, which read types from
// tsconfig.src.json; test/ and bench/ stay on the syntactic set for now.
import tseslint from 'typescript-eslint';

const shippedTs = ['src/**/*.ts', 'plugins/**/*.ts'];

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'dist-*/**',
      'node_modules/**',
      'assets/**',
      'test/fixtures/**',
      'test/.tmp/**',
    ],
  },
  ...tseslint.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked.map((config) => ({ ...config, files: shippedTs })),
  {
    files: shippedTs,
    languageOptions: {
      parserOptions: {
        project: './tsconfig.src.json',
        tsconfigRootDir: import.meta.dirname,
      },
    },
  },
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
    },
  },
);
