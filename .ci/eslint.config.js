// ESLint flat config (`eslint -c .ci/eslint.config.js .` from the repository root, as `npm run lint` does; its paths
// are relative to the root): the code-shape rules of the house (issue 11).
// - no import cycles (import-x/no-cycle; the `.js` specifiers resolve to the `.ts` sources through the TypeScript
//   resolver and tsconfig.json),
// - no function over 80 lines and no file over 500 lines in src/ and checks/ (the Amazon root bundle aside),
// - a `/** … */` doc comment on every exported function, const-function and class.
// Formatting (120 columns) is Prettier's job: `npm run lint` runs both.
import tseslint from 'typescript-eslint';
import { importX } from 'eslint-plugin-import-x';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';
import jsdoc from 'eslint-plugin-jsdoc';

const SOURCES = ['src/**/*.ts', 'checks/**/*.ts'];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'reports/**', 'lab/**', '.vitest/**'] },
  {
    files: SOURCES,
    languageOptions: {
      parser: tseslint.parser,
      ecmaVersion: 2022,
      sourceType: 'module',
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
  },
  {
    files: SOURCES,
    plugins: { 'import-x': importX, jsdoc },
    settings: {
      'import-x/resolver-next': [createTypeScriptImportResolver({ project: 'tsconfig.json' })],
      'import-x/extensions': ['.ts', '.js'],
    },
    rules: {
      // Import cycles anywhere in the product code, through any depth, dynamic `import()` included. Edges that only
      // import types are erased at compile time and never decide evaluation order: the rule does not follow them.
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      'max-lines-per-function': ['error', { max: 80, skipBlankLines: false, skipComments: false, IIFEs: true }],
      'max-lines': ['error', { max: 500, skipBlankLines: false, skipComments: false }],
      'jsdoc/require-jsdoc': [
        'error',
        {
          publicOnly: { esm: true, cjs: false, window: false },
          require: {
            FunctionDeclaration: true,
            FunctionExpression: true,
            ArrowFunctionExpression: true,
            ClassDeclaration: true,
            ClassExpression: true,
            MethodDefinition: false,
          },
          checkGetters: false,
          checkSetters: false,
          enableFixer: false,
        },
      ],
    },
  },
  {
    // The bundled Amazon root certificates are data, not code.
    files: ['src/assets/amazon-roots.ts'],
    rules: { 'max-lines': 'off' },
  },
);
