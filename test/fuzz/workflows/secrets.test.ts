/**
 * Issue 25, part 3: secrets never leak. One short campaign (production: approval, Statuspage announcement,
 * PagerDuty pages, the window) and one short restore (restore, approval, cutover whose check on the data path
 * logs in with a password read from an environment variable) run on the time-skipping server, in process, with
 * every secret the product reads set to a recognisable canary: the AWS keys and session token, the Statuspage
 * API key, the PagerDuty routing key (ORCHESTRATOR_PAGERDUTY_ROUTING_KEY), the notification webhook's URL (a
 * Slack-style URL is a credential), a database password named by `{ env: NAME }`, and TEMPORAL_API_KEY.
 *
 * The activities that read those secrets are the real ones (createActivities: Statuspage, PagerDuty, webhook,
 * the database login), talking to fakes of those services through an injected fetch and to a fake PostgreSQL
 * server that asks for the password in clear and refuses it, quoting it back (what redaction must survive);
 * AWS itself is FakeAws, so the AWS keys are in the worker's environment but sign nothing here (the signing
 * path is fuzzed in test/fuzz/aws-answers.test.ts). Each secret is first shown to reach its own service (the
 * canary is live), then searched for in: the workflow histories (payloads decoded), the status queries, the
 * change records (src/cli/record.ts) as JSON and as printed, the notifications, and everything the worker and
 * its activities logged (the SDK runtime's logger, console).
 *
 * Needs the time-skipping server: scripts/test.ts should list `test/fuzz/workflows/**` with the workflow group.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { inspect } from 'node:util';
import type { RDSClient } from '@aws-sdk/client-rds';
import type { WorkflowHandle } from '@temporalio/client';
import type { LogEntry } from '@temporalio/worker';
import { approveUpdate, campaignStatusQuery, decideUpdate, restoreStatusQuery, type Activities, type CampaignStatus, type RestoreStatus } from '../../../src/api';
import { createActivities } from '../../../src/activities';
import { campaignRecord, formatRecord, restoreRecord } from '../../../src/cli/record';
import { startCampaign, startRestore } from '../../../src/client';
import { loadConfig } from '../../../src/config';
import { resolveCampaignSpec, resolveRestoreSpec } from '../../../src/input';
import { FakeAws } from '../../fixtures/fake-aws';
import { testLogs, timeSkippingEnv } from '../../harness';
import { advanceUntil, runbookSpec, withWorker } from '../../workflows/helpers';

const CANARY = {
  awsAccessKeyId: 'AKIALEAKCANARY000025',
  awsSecretAccessKey: 'leak-canary-aws-secret-access-key-25',
  awsSessionToken: 'LeakCanaryAwsSessionToken25',
  statuspageApiKey: 'leak-canary-statuspage-api-key-25',
  pagerDutyRoutingKey: 'LEAKCANARYPAGERDUTYROUTINGKEY025',
  webhookToken: 'LEAKCANARYWEBHOOKTOKEN25',
  databasePassword: 'leak-canary-database-password-25',
  temporalApiKey: 'leak-canary-temporal-api-key-25',
};
const SECRETS = Object.values(CANARY);
const WEBHOOK_URL = `https://hooks.chat.example/services/T0/B0/${CANARY.webhookToken}`;
const STATUSPAGE_URL = 'https://statuspage.example/v1';
const PAGERDUTY_URL = 'https://events.pagerduty.example/v2/enqueue';
const PAGE_ID = 'page-1';

/** The workers' environment: every secret the product reads, as a canary. */
function workerEnv(): NodeJS.ProcessEnv {
  return {
    AWS_ACCESS_KEY_ID: CANARY.awsAccessKeyId,
    AWS_SECRET_ACCESS_KEY: CANARY.awsSecretAccessKey,
    AWS_SESSION_TOKEN: CANARY.awsSessionToken,
    AWS_REGION: 'eu-west-2',
    STATUSPAGE_API_KEY: CANARY.statuspageApiKey,
    STATUSPAGE_PAGE_ID: PAGE_ID,
    STATUSPAGE_BASE_URL: STATUSPAGE_URL,
    ORCHESTRATOR_PAGERDUTY_ROUTING_KEY: CANARY.pagerDutyRoutingKey,
    ORCHESTRATOR_PAGERDUTY_EVENTS_URL: PAGERDUTY_URL,
    ORCHESTRATOR_NOTIFY_WEBHOOK_URL: WEBHOOK_URL,
    NOTIFY_DB_PASSWORD: CANARY.databasePassword,
    TEMPORAL_API_KEY: CANARY.temporalApiKey,
    ORCHESTRATOR_RDS_REQUESTS_PER_SECOND: 'off',
  };
}

interface Sent {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: string;
}

/**
 * Statuspage, PagerDuty and the webhook as fetch sees them: each answers like the real service, and each
 * fails once first (429, 500, 502), so the failures the worker logs and retries are searched as well.
 */
function fakeServices(sent: Sent[]): typeof fetch {
  const failedOnce = new Set<string>();
  const once = (key: string) => !failedOnce.has(key) && failedOnce.add(key) !== undefined;
  return (async (input: string | URL | Request, init?: RequestInit) => {
    const url = String(input);
    const headers = Object.fromEntries(Object.entries((init?.headers ?? {}) as Record<string, string>));
    const body = typeof init?.body === 'string' ? init.body : '';
    const method = init?.method ?? 'GET';
    sent.push({ url, method, headers, body });
    const json = (status: number, value: unknown) => new Response(JSON.stringify(value), { status, headers: { 'Content-Type': 'application/json' } });
    if (url.startsWith(STATUSPAGE_URL)) {
      if (method === 'POST' && once('statuspage')) return json(429, { error: 'Rate limit exceeded' });
      if (method === 'GET' && url.includes('/incidents?q=')) return json(200, []);
      if (method === 'GET' && /\/incidents\/(scheduled|active_maintenance)/.test(url)) return json(200, []);
      if (method === 'POST') return json(201, { id: 'incident-1', name: 'Scheduled maintenance', status: 'scheduled', shortlink: 'https://stspg.io/x' });
      return json(200, { id: 'incident-1', status: 'scheduled' });
    }
    if (url === PAGERDUTY_URL) {
      if (once('pagerduty')) return json(500, { status: 'error', message: 'internal error' });
      const event = JSON.parse(body) as { dedup_key?: string };
      return json(202, { status: 'success', message: 'Event processed', dedup_key: event.dedup_key });
    }
    if (url === WEBHOOK_URL) {
      if (once('webhook')) return new Response('upstream error', { status: 502 });
      return new Response('ok', { status: 200 });
    }
    return new Response('not found', { status: 404 });
  }) as typeof fetch;
}

/**
 * A PostgreSQL server that asks for the password in clear (AuthenticationCleartextPassword) and refuses the
 * login (28P01), quoting the password it received in its message: the worst a server (or a proxy in front of
 * it) can do with a secret, which the worker must not pass on.
 */
async function passwordQuotingPostgres(received: string[]): Promise<{ port: number; close(): Promise<void> }> {
  const server = net.createServer((socket) => {
    let buffer = Buffer.alloc(0);
    let started = false;
    socket.on('error', () => undefined);
    socket.on('data', (chunk) => {
      buffer = Buffer.concat([buffer, chunk]);
      for (;;) {
        if (!started) {
          if (buffer.length < 4 || buffer.length < buffer.readInt32BE(0)) return;
          const length = buffer.readInt32BE(0);
          const code = buffer.readInt32BE(4);
          buffer = buffer.subarray(length);
          if (code === 80877103) {
            socket.write('N'); // no TLS: ask again without it
            continue;
          }
          started = true;
          const ask = Buffer.alloc(9);
          ask.write('R', 0);
          ask.writeInt32BE(8, 1);
          ask.writeInt32BE(3, 5);
          socket.write(ask);
          continue;
        }
        if (buffer.length < 5 || buffer.length < 1 + buffer.readInt32BE(1)) return;
        const type = String.fromCharCode(buffer[0]);
        const length = buffer.readInt32BE(1);
        const payload = buffer.subarray(5, 1 + length);
        buffer = buffer.subarray(1 + length);
        if (type !== 'p') continue;
        const password = payload.subarray(0, payload.indexOf(0)).toString('utf8');
        received.push(password);
        const fields = Buffer.concat(
          [['S', 'FATAL'], ['V', 'FATAL'], ['C', '28P01'], ['M', `password authentication failed for user "notify_app" (the password given was "${password}")`]].map(([k, v]) => Buffer.from(`${k}${v}\0`)).concat([Buffer.from('\0')]),
        );
        const error = Buffer.alloc(5);
        error.write('E', 0);
        error.writeInt32BE(4 + fields.length, 1);
        socket.end(Buffer.concat([error, fields]));
        return;
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as net.AddressInfo).port, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

/** A history as text, every payload decoded (JSON.stringify alone would show payload bytes as numbers). */
function historyText(history: unknown): string {
  return JSON.stringify(history, (_key, value: unknown) => (value instanceof Uint8Array ? Buffer.from(value).toString('utf8') : value));
}

function assertNoSecret(where: string, text: string): void {
  for (const secret of SECRETS) {
    const at = text.indexOf(secret);
    assert.ok(at < 0, `${where} holds a secret: …${text.slice(Math.max(0, at - 200), at + secret.length + 50)}…`);
  }
}

describe('secrets never leak (issue 25, time-skipping, in process)', function () {
  this.timeout(180_000);
  const logged: string[] = [];
  let receive: typeof testLogs.receive;
  const consoleMethods = ['log', 'info', 'warn', 'error', 'debug'] as const;
  const originals = consoleMethods.map((m) => console[m]);

  before(function () {
    // Everything the SDK runtime logs (the workers, their workflows and activities) and everything printed.
    receive = testLogs.receive;
    testLogs.receive = function (entry: LogEntry) {
      logged.push(`${entry.level} ${entry.message} ${inspect(entry.meta, { depth: 8, breakLength: Infinity })}`);
      receive.call(this, entry);
    };
    consoleMethods.forEach((m, i) => {
      console[m] = (...args: unknown[]) => {
        logged.push(args.map((a) => (typeof a === 'string' ? a : inspect(a, { depth: 8 }))).join(' '));
        (originals[i] as (...a: unknown[]) => void)(...args);
      };
    });
  });

  after(function () {
    testLogs.receive = receive;
    consoleMethods.forEach((m, i) => {
      console[m] = originals[i] as (typeof console)[typeof m];
    });
  });

  it('a campaign and a restore keep every secret out of histories, status, records, notifications and logs', async function () {
    const env = await timeSkippingEnv();
    const sent: Sent[] = [];
    const received: string[] = [];
    const postgres = await passwordQuotingPostgres(received);
    const environment = workerEnv();
    const notified: string[] = [];
    try {
      const fake = new FakeAws();
      fake.addInstance({ instanceId: 'notify-production', preferredMaintenanceWindow: 'wed:22:00-wed:22:30' });
      const ZONE = 'Z0123456789ABCDEFGHIJ';
      const RECORD = 'db.notify.example.com';
      fake.records.set(`${ZONE}/${RECORD}/notify`, { hostedZoneId: ZONE, recordName: RECORD, setIdentifier: 'notify', weight: 100, ttlSeconds: 60, value: 'notify-production.abc.eu-west-2.rds.amazonaws.com' });
      fake.zones.set(ZONE, { hostedZoneId: ZONE, name: 'notify.example.com', privateZone: false, vpcs: [] });

      // The real activities for every secret the workers hold; RDS reads for the database login name the fake server.
      const stubRds = {
        send: async () => ({ DBInstances: [{ DBInstanceIdentifier: 'notify-restored', DBInstanceStatus: 'available', Endpoint: { Address: '127.0.0.1', Port: postgres.port }, MasterUsername: 'postgres' }] }),
      } as unknown as RDSClient;
      const real = createActivities({ config: loadConfig(environment), env: environment, fetch: fakeServices(sent), rdsClientFor: () => stubRds, notifyLog: (line) => logged.push(line) });
      const fakes = fake.activities();
      const activities: Activities = {
        ...fakes,
        createScheduledMaintenance: real.createScheduledMaintenance,
        cancelScheduledMaintenance: real.cancelScheduledMaintenance,
        pageOnCall: real.pageOnCall,
        describeDatabase: real.describeDatabase,
        notify: async (n) => {
          notified.push(JSON.stringify(n));
          await fakes.notify(n);
          return real.notify(n);
        },
      };

      await withWorker(env, activities, async (taskQueue) => {
        // The campaign: production only (approval, announcement, pages at the window), key from the workers' environment.
        const campaignSpec = resolveCampaignSpec(runbookSpec({ campaignId: `leak-${process.pid}`, stages: [{ ...runbookSpec().stages[2], statusPage: { enabled: true }, pagerDuty: { enabled: true } }] }));
        const campaign = await startCampaign(env.client, campaignSpec, { taskQueue });
        const asking = await advanceUntil(env, campaign, (s: CampaignStatus) => s.waitingFor?.kind === 'approval');
        await campaign.executeUpdate(approveUpdate, { args: [{ by: 'bob', plan: asking.waitingFor!.plan!, comment: 'announced' }] });
        const campaignResult = await campaign.result();
        assert.equal(campaignResult.state, 'completed');

        // The restore: the cutover checks the restored database with a password from NOTIFY_DB_PASSWORD.
        const restoreSpec = resolveRestoreSpec({
          restoreId: `leak-${process.pid}`,
          requester: 'alice',
          source: { region: 'eu-west-2', instanceId: 'notify-production' },
          targetInstanceId: 'notify-restored',
          restoreTime: 'latest',
          cutover: { hostedZoneId: ZONE, recordName: RECORD, setIdentifier: 'notify', database: { name: 'notify', user: 'notify_app', password: { env: 'NOTIFY_DB_PASSWORD' }, tls: 'disable' } },
          pollInterval: '5m',
        });
        const restore = await startRestore(env.client, restoreSpec, { taskQueue });
        const until = async (pred: (s: RestoreStatus) => boolean): Promise<RestoreStatus> => {
          for (let i = 0; i < 200; i++) {
            const s = await restore.query(restoreStatusQuery);
            if (pred(s)) return s;
            await env.sleep(30 * 60_000);
          }
          assert.fail('the restore never got there');
        };
        const approval = await until((s) => s.state === 'waiting-for-approval');
        await restore.executeUpdate(approveUpdate, { args: [{ by: 'bob', plan: approval.waitingFor!.plan! }] });
        // The check on the data path cannot log in: the team is asked, and keeps the restored instance.
        const question = await until((s) => s.state === 'waiting-for-decision' || s.endedAt !== undefined);
        if (question.state === 'waiting-for-decision') await restore.executeUpdate(decideUpdate, { args: [{ by: 'bob', decision: 'keep', comment: 'checked by hand' }] });
        const restoreResult = await restore.result();
        assert.ok(restoreResult.endedAt, 'the restore ended');

        // The canaries are live: each secret reached its own service, and only there.
        assert.ok(sent.some((s) => s.url.startsWith(STATUSPAGE_URL) && s.headers.Authorization === `OAuth ${CANARY.statuspageApiKey}`), 'Statuspage got its API key');
        assert.ok(sent.filter((s) => s.url === PAGERDUTY_URL && JSON.parse(s.body).routing_key === CANARY.pagerDutyRoutingKey).length >= 2, 'PagerDuty got its routing key (again after its 500)');
        assert.ok(sent.filter((s) => s.url === WEBHOOK_URL).length > 3, 'the webhook got the notifications');
        assert.ok(received.includes(CANARY.databasePassword), 'the database got its password');
        assert.ok(
          restoreResult.timeline.some((t) => /SQLSTATE 28P01: password authentication failed .*the password given was "\*\*\*\*"/.test(t.detail ?? '')),
          "the server's refusal reached the run, the password in it redacted",
        );

        for (const s of sent) {
          const legit = [
            s.url.startsWith(STATUSPAGE_URL) ? `OAuth ${CANARY.statuspageApiKey}` : undefined,
            s.url === PAGERDUTY_URL ? CANARY.pagerDutyRoutingKey : undefined,
          ].filter(Boolean) as string[];
          const bodyAndHeaders = JSON.stringify({ body: s.body, headers: s.headers }).split(legit[0] ?? '\u0000').join('');
          assertNoSecret(`a request to ${s.url.replace(CANARY.webhookToken, '<webhook token>')}`, bodyAndHeaders);
        }

        for (const [what, handle, query, record] of [
          ['campaign', campaign, campaignStatusQuery, campaignRecord],
          ['restore', restore, restoreStatusQuery, restoreRecord],
        ] as const) {
          const h = handle as WorkflowHandle;
          const history = await h.fetchHistory();
          assertNoSecret(`the ${what}'s history`, historyText(history));
          const status = await h.query(query as typeof campaignStatusQuery);
          assertNoSecret(`the ${what}'s status`, JSON.stringify(status));
          const started = history.events?.[0]?.workflowExecutionStartedEventAttributes;
          const input = JSON.parse(Buffer.from(started!.input!.payloads![0].data!).toString('utf8'));
          const rec = (record as typeof campaignRecord)(h.workflowId, status as CampaignStatus, input, started?.originalExecutionRunId ?? '');
          assertNoSecret(`the ${what}'s record`, JSON.stringify(rec));
          assertNoSecret(`the ${what}'s printed record`, formatRecord(rec));
        }
        assertNoSecret('the results', JSON.stringify([campaignResult, restoreResult]));
        assert.ok(notified.length > 5);
        assertNoSecret('the notifications', notified.join('\n') + JSON.stringify(fake.notifications));
      });
      assert.ok(logged.length > 20, 'the logs were captured');
      assertNoSecret('the worker and activity logs', logged.join('\n'));
    } finally {
      await postgres.close();
    }
  });

  /**
   * Found by this test: a stage's own PagerDuty routing key (`pagerDuty.routingKey`) was resolved into the
   * workflow's input as is, so it was in the history, in `campaign record`'s spec and in every fleet child's input.
   * A spec now names the workers' variable holding it (`{ env }`, as a database password); a key written in the
   * spec is refused without being echoed.
   */
  it("a stage's own PagerDuty routing key stays out of the workflow's input: named by variable, a written key refused", function () {
    const key = 'R0123456789abcdef0123456789ABCDE';
    const production = runbookSpec().stages[2];
    assert.throws(() => resolveCampaignSpec(runbookSpec({ stages: [{ ...production, pagerDuty: { enabled: true, routingKey: key as never } }] })), (err: Error) => !err.message.includes(key) && /routing key is a secret/.test(err.message));
    const resolved = resolveCampaignSpec(runbookSpec({ stages: [{ ...production, pagerDuty: { enabled: true, routingKey: { env: 'NOTIFY_PAGERDUTY_KEY' } } }] }));
    assert.deepEqual(resolved.stages[0].pagerDuty, { enabled: true, routingKeyEnv: 'NOTIFY_PAGERDUTY_KEY' });
    assertNoSecret("the campaign's input", JSON.stringify(resolved).split(key).join(CANARY.pagerDutyRoutingKey));
  });
});
