// ESLint flat config. The block for src/workflows enforces Temporal's determinism rules: workflow code is
// bundled into a sandbox and replayed, so it may not read the clock or randomness directly, start timers
// outside the SDK, or touch Node built-ins / I/O (activities do that).
import { builtinModules } from 'node:module';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const nodeBuiltins = [...builtinModules, ...builtinModules.map((m) => `node:${m}`)];

// The product (src/) ships alone: it never imports the dev tooling, the simulator, the bench or the tests,
// nor @temporalio/testing (a dev dependency, absent from the image).
const productLayers = [
  { group: ['@temporalio/testing', '@temporalio/testing/*'], message: 'The product does not start Temporal servers: @temporalio/testing is a dev dependency (dev/, test/).' },
  { group: ['**/dev', '**/dev/**', '**/sim', '**/sim/**', '**/bench', '**/bench/**', '**/test', '**/test/**'], message: 'src/ is the product: dev/, sim/, bench/ and test/ sit above it and are not shipped.' },
];

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
    files: ['src/workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: nodeBuiltins.map((name) => ({ name, message: 'Workflows are deterministic: do I/O in an activity.' })),
          patterns: [
            { group: ['@aws-sdk/*'], message: 'Call AWS from an activity, never from a workflow.' },
            { group: ['@temporalio/client', '@temporalio/worker', '@temporalio/activity'], message: 'Workflows import only @temporalio/workflow.' },
            ...productLayers,
          ],
        },
      ],
      'no-restricted-globals': [
        'error',
        { name: 'setTimeout', message: 'Use sleep() from @temporalio/workflow.' },
        { name: 'setInterval', message: 'Use sleep() in a loop from @temporalio/workflow.' },
        { name: 'setImmediate', message: 'Use sleep() from @temporalio/workflow.' },
        { name: 'process', message: 'Workflows cannot read the environment; pass it in the input.' },
        { name: 'require', message: 'Use static imports of deterministic modules.' },
      ],
      'no-restricted-syntax': [
        'error',
        { selector: "CallExpression[callee.object.name='Date'][callee.property.name='now']", message: 'Date.now() is not deterministic: use workflowInfo()/the SDK clock via a helper in src/workflows/shared/clock.ts.' },
        { selector: "NewExpression[callee.name='Date'][arguments.length=0]", message: 'new Date() without arguments reads the clock: use the workflow clock helper.' },
        { selector: "MemberExpression[object.name='Math'][property.name='random']", message: 'Math.random is not deterministic: use uuid4() from @temporalio/workflow.' },
      ],
    },
  },
  {
    files: ['src/workflows/shared/clock.ts'],
    rules: { 'no-restricted-syntax': 'off' },
  },
);
