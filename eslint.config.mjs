// ESLint flat config. The determinism block covers every file the workflow bundle reaches: workflow code is
// bundled into a sandbox and replayed, so neither it nor anything it imports may read the clock or
// randomness directly, start timers outside the SDK, or touch Node built-ins / I/O (activities do that).
// The product is also linted with type information, for the one rule that needs it: no floating promises.
import { builtinModules } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const ROOT = path.dirname(fileURLToPath(import.meta.url));
const nodeBuiltins = [...builtinModules, ...builtinModules.map((m) => `node:${m}`)];

// The product (src/) ships alone: it never imports the dev tooling, the simulator, the bench or the tests,
// nor @temporalio/testing (a dev dependency, absent from the image).
const productLayers = [
  { group: ['@temporalio/testing', '@temporalio/testing/*'], message: 'The product does not start Temporal servers: @temporalio/testing is a dev dependency (dev/, test/).' },
  { group: ['**/dev', '**/dev/**', '**/sim', '**/sim/**', '**/bench', '**/bench/**', '**/test', '**/test/**'], message: 'src/ is the product: dev/, sim/, bench/ and test/ sit above it and are not shipped.' },
];

// What the workflow bundle reaches, by following the imports of src/workflows/index.ts: the workflows, the
// api they expose, the domain's rules (identity included) and the input code (a workflow resolves the
// input of a run started by an older client). src/input/file.ts reads spec files for the CLI; nothing in
// the bundle imports it, and it is the one file of those folders that does I/O.
const WORKFLOW_BUNDLE = ['src/workflows/**/*.ts', 'src/api/**/*.ts', 'src/domain/**/*.ts', 'src/input/**/*.ts'];
const OUTSIDE_THE_BUNDLE = ['src/input/file.ts'];

export default tseslint.config(
  { ignores: ['lib/**', 'node_modules/**', '.tools/**', 'bench/results/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['scripts/**/*.js', 'bin/**'],
    languageOptions: { sourceType: 'commonjs', globals: { require: 'readonly', process: 'readonly', __dirname: 'readonly', console: 'readonly', module: 'writable' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    files: ['src/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: productLayers }] },
  },
  {
    // As Temporal's samples configure it (temporalio/samples-typescript .shared/.eslintrc.js): forgetting to
    // await an activity, a timer or a client call is a bug that type checking alone does not catch. Type
    // information for the product only (tsconfig.build.json: src/), which keeps the lint's program small.
    files: ['src/**/*.ts'],
    languageOptions: { parserOptions: { project: './tsconfig.build.json', tsconfigRootDir: ROOT } },
    rules: { '@typescript-eslint/no-floating-promises': 'error' },
  },
  {
    files: WORKFLOW_BUNDLE,
    ignores: OUTSIDE_THE_BUNDLE,
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: nodeBuiltins.map((name) => ({ name, message: 'The workflow bundle is deterministic: do I/O in an activity.' })),
          patterns: [
            { group: ['@aws-sdk/*'], message: 'Call AWS from an activity, never from a workflow or what it imports.' },
            { group: ['@temporalio/client', '@temporalio/worker', '@temporalio/activity'], message: 'The workflow bundle imports only @temporalio/workflow (and @temporalio/common).' },
            ...productLayers,
          ],
        },
      ],
      'no-restricted-globals': [
        'error',
        { name: 'setTimeout', message: 'Use sleep() from @temporalio/workflow.' },
        { name: 'setInterval', message: 'Use sleep() in a loop from @temporalio/workflow.' },
        { name: 'setImmediate', message: 'Use sleep() from @temporalio/workflow.' },
        { name: 'process', message: 'The workflow bundle cannot read the environment; pass it in the input.' },
        { name: 'require', message: 'Use static imports of deterministic modules.' },
      ],
      'no-restricted-syntax': [
        'error',
        { selector: "CallExpression[callee.object.name='Date'][callee.property.name='now']", message: 'Date.now() is not deterministic: workflows use the clock helper in src/workflows/shared/clock.ts; domain and input code take the instant as an argument.' },
        { selector: "NewExpression[callee.name='Date'][arguments.length=0]", message: 'new Date() without arguments reads the clock: workflows use the clock helper; domain and input code take the instant as an argument.' },
        { selector: "MemberExpression[object.name='Math'][property.name='random']", message: 'Math.random is not deterministic: use uuid4() from @temporalio/workflow.' },
      ],
    },
  },
  {
    files: ['src/workflows/shared/clock.ts'],
    rules: { 'no-restricted-syntax': 'off' },
  },
);
