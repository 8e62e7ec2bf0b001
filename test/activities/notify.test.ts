import assert from 'node:assert/strict';
import { createNotifyActivities } from '../../src/activities/notify';
import type { Notification } from '../../src/api';
import { expectFailure, startServer, type TestServer } from './helpers';

const n: Notification = {
  workflowId: 'campaign-42',
  event: 'approval-needed',
  text: 'Approve the prod upgrade of orders-db to 15.7',
  stage: 'prod',
  details: { instance: 'orders-db', targetVersion: '15.7' },
};

describe('notify activities', () => {
  let server: TestServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('POSTs a Slack-compatible JSON payload with text first', async () => {
    server = await startServer(() => ({ status: 200, body: 'ok' }));
    const r = await createNotifyActivities({ webhookUrl: `${server.url}/hooks/abc` }).notify(n);
    assert.deepEqual(r, { delivered: true });
    assert.equal(server.requests.length, 1);
    const [req] = server.requests;
    assert.equal(req.method, 'POST');
    assert.equal(req.url, '/hooks/abc');
    assert.equal(req.headers['content-type'], 'application/json');
    const body = JSON.parse(req.body) as Record<string, unknown>;
    assert.equal(Object.keys(body)[0], 'text');
    assert.deepEqual(body, {
      text: 'Approve the prod upgrade of orders-db to 15.7',
      event: 'approval-needed',
      workflowId: 'campaign-42',
      stage: 'prod',
      details: { instance: 'orders-db', targetVersion: '15.7' },
    });
  });

  it('turns a non-2xx answer into a retryable failure with the status and body', async () => {
    server = await startServer(() => ({ status: 500, body: 'invalid_token' }));
    await expectFailure(createNotifyActivities({ webhookUrl: server.url }).notify(n), {
      type: 'NotifyFailed',
      nonRetryable: false,
      message: [/500/, /invalid_token/],
    });
  });

  it('only logs when no webhook is configured', async () => {
    const lines: string[] = [];
    const r = await createNotifyActivities({ log: (l) => lines.push(l) }).notify(n);
    assert.deepEqual(r, { delivered: false });
    assert.equal(lines.length, 1);
    assert.match(lines[0], /approval-needed/);
    assert.match(lines[0], /campaign-42/);
    assert.match(lines[0], /Approve the prod upgrade/);
  });

  it('uses the injected fetch', async () => {
    const seen: string[] = [];
    const fakeFetch: typeof fetch = async (input) => {
      seen.push(String(input));
      return new Response('ok', { status: 200 });
    };
    await createNotifyActivities({ webhookUrl: 'https://hooks.example.invalid/x', fetch: fakeFetch }).notify(n);
    assert.deepEqual(seen, ['https://hooks.example.invalid/x']);
  });
});
