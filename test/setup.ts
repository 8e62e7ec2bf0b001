import { installTestRuntime, teardownAll, testLogs } from './harness';

// The SDK warns that its releases after January 2027 need Node 22; package-lock.json pins today's release.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
// Before any test file makes a worker: worker and SDK logs are kept per test, printed only under a failure.
installTestRuntime();

export const mochaHooks = {
  afterEach(this: Mocha.Context) {
    const lines = testLogs.take();
    if (this.currentTest?.state !== 'failed' || lines.length === 0) return;
    console.log(`      worker and SDK logs of this test (TEST_LOG_LEVEL=INFO prints them as they come):`);
    for (const line of lines) console.log(line.replace(/^/gm, '        '));
  },
  async afterAll(this: Mocha.Context) {
    this.timeout(60_000);
    await teardownAll();
  },
};
