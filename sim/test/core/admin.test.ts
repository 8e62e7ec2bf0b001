import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DescribeDBInstancesCommand, ModifyDBInstanceCommand, RDSClient } from '@aws-sdk/client-rds';
import { ChangeResourceRecordSetsCommand, GetChangeCommand, Route53Client } from '@aws-sdk/client-route-53';
import { DescribeSecurityGroupsCommand } from '@aws-sdk/client-ec2';
import { ManualClock } from '../../src/core/clock';
import { SimAdminClient } from '../../src/client';
import { parseSimulatorArgs } from '../../src/main';
import { DEMO_BASTION_SECURITY_GROUP_ID, demoFleet, demoInstanceId } from '../../src/demo-fleet';
import { startSimulator } from '../../src/server';
import { CREDENTIALS, REGION, rejectsWith, startHarness } from '../helpers';
import type { SimHarness } from '../helpers';

describe('sim: faults, call log and admin API', function () {
  let h: SimHarness;
  beforeEach(async function () {
    h = await startHarness();
    await h.admin.seed({ instances: [{ region: REGION, id: 'db1', engineVersion: '15.5' }] });
  });
  afterEach(async function () {
    await h.close();
  });

  it('throttleNext: the SDK sees Throttling and retries it to success', async function () {
    await h.admin.faults({ throttleNext: 1 });
    const out = await h.rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: 'db1' }));
    assert.equal(out.$metadata.attempts, 2);
    const calls = await h.admin.calls({ action: 'DescribeDBInstances' });
    assert.deepEqual(calls.map((c) => [c.fault, c.errorCode, c.httpStatus]), [
      ['throttle', 'Throttling', 400],
      [undefined, undefined, 200],
    ]);
  });

  it('throttling beyond the retries surfaces as a Throttling error; errorNext gives 5xx that are retried', async function () {
    const noRetry = new RDSClient({ endpoint: h.sim.url, region: REGION, credentials: CREDENTIALS, maxAttempts: 1 });
    await h.admin.faults({ throttleNext: 1 });
    const e = await rejectsWith(noRetry.send(new DescribeDBInstancesCommand({})), 'Throttling', 'Rate exceeded');
    assert.equal(e.$metadata?.httpStatusCode, 400);
    await h.admin.faults({ errorNext: 1, status: 503 });
    const e2 = await rejectsWith(noRetry.send(new DescribeDBInstancesCommand({})), 'InternalFailure');
    assert.equal(e2.$metadata?.httpStatusCode, 503);
    noRetry.destroy();
    await h.admin.faults({ errorNext: 1 });
    const ok = await h.ec2.send(new DescribeSecurityGroupsCommand({}));
    assert.equal(ok.$metadata.attempts, 2);
  });

  it('latencyMs delays AWS answers until cleared', async function () {
    await h.admin.faults({ latencyMs: 150 });
    const t0 = Date.now();
    await h.rds.send(new DescribeDBInstancesCommand({}));
    assert.ok(Date.now() - t0 >= 140, `took ${Date.now() - t0} ms`);
    await h.admin.faults({ latencyMs: 0 });
  });

  it('records calls with service, action, region, params and isMutation', async function () {
    await h.rds.send(new ModifyDBInstanceCommand({ DBInstanceIdentifier: 'db1', AutoMinorVersionUpgrade: true }));
    await h.rds.send(new DescribeDBInstancesCommand({}));
    const calls = await h.admin.calls({ service: 'rds' });
    assert.deepEqual(calls.map((c) => [c.action, c.isMutation, c.region]), [
      ['ModifyDBInstance', true, REGION],
      ['DescribeDBInstances', false, REGION],
    ]);
    assert.equal(calls[0]?.params.AutoMinorVersionUpgrade, 'true');
    assert.equal(calls[0]?.at, '2025-01-06T12:00:00.000Z');
    assert.deepEqual((await h.admin.calls({ mutationsOnly: true })).map((c) => c.action), ['ModifyDBInstance']);
    assert.deepEqual(await h.admin.calls({ since: calls[1]?.seq }), []);
  });

  it('advance moves simulated time; reset clears everything; state shows it; bad input is a clear 400', async function () {
    const before = await h.admin.health();
    const after = await h.admin.advance(3600);
    assert.equal(Date.parse(after) - Date.parse(before.now), 3_600_000);
    const state = (await h.admin.state()) as { state: { instances: Record<string, unknown> } };
    assert.equal(Object.keys(state.state.instances).length, 1);
    await h.admin.reset();
    assert.equal((await h.rds.send(new DescribeDBInstancesCommand({}))).DBInstances?.length, 0);
    await assert.rejects(h.admin.advance(-1), /advance needs/);
    await assert.rejects(h.admin.seed({ instances: [{ region: REGION, id: 'x', engineVersion: '9.9' }] }), /Cannot find version 9.9/);
    await assert.rejects(h.admin.faults({ throttleNext: -1 }), /non-negative integer/);
  });
});

describe('sim: persistence, demo fleet and CLI', function () {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rds-sim-'));
  after(function () {
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('state (instances, in-flight upgrades, Route 53 changes, clock offset) survives a restart', async function () {
    const stateFile = path.join(tmp, 'state.json');
    const clock = new ManualClock(Date.UTC(2025, 0, 6, 12, 0, 0));
    const first = await startSimulator({ port: 0, clock, stateFile });
    const admin = new SimAdminClient(first.url);
    const seeded = await admin.seed(demoFleet(clock.now()));
    const rds = new RDSClient({ endpoint: first.url, region: REGION, credentials: CREDENTIALS });
    await rds.send(new ModifyDBInstanceCommand({ DBInstanceIdentifier: 'notifydb-staging', EngineVersion: '15.8', ApplyImmediately: true }));
    const r53 = new Route53Client({ endpoint: first.url, region: REGION, credentials: CREDENTIALS });
    const change = await r53.send(
      new ChangeResourceRecordSetsCommand({
        HostedZoneId: 'ZDEMONOTIFY0001',
        ChangeBatch: { Changes: [{ Action: 'UPSERT', ResourceRecordSet: { Name: 'db.staging.notify.internal', Type: 'CNAME', SetIdentifier: 'restore', Weight: 0, TTL: 60, ResourceRecords: [{ Value: 'restore.example' }] } }] },
      }),
    );
    await admin.advance(2);
    rds.destroy();
    r53.destroy();
    await first.close();
    assert.ok(fs.existsSync(stateFile));
    assert.deepEqual(fs.readdirSync(tmp), ['state.json'], 'no temp files left behind');

    const second = await startSimulator({ port: 0, clock, stateFile });
    const h2 = { rds: new RDSClient({ endpoint: second.url, region: REGION, credentials: CREDENTIALS }) };
    const staging = async (): Promise<string | undefined> =>
      (await h2.rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: 'notifydb-staging' }))).DBInstances?.[0]?.DBInstanceStatus;
    assert.equal(await staging(), 'modifying');
    clock.advance(35_000);
    assert.equal(await staging(), 'available');
    const all = await h2.rds.send(new DescribeDBInstancesCommand({}));
    assert.deepEqual(all.DBInstances?.map((i) => i.DBInstanceIdentifier), seeded.instances.map((i) => i.id).sort());
    assert.equal(all.DBInstances?.find((i) => i.DBInstanceIdentifier === 'notifydb-staging')?.EngineVersion, '15.8');
    assert.equal((await new SimAdminClient(second.url).health()).now, new Date(clock.now() + 2000).toISOString(), 'the advance offset persisted');
    const r53b = new Route53Client({ endpoint: second.url, region: REGION, credentials: CREDENTIALS });
    assert.equal((await r53b.send(new GetChangeCommand({ Id: change.ChangeInfo?.Id as string }))).ChangeInfo?.Status, 'INSYNC');
    r53b.destroy();
    h2.rds.destroy();
    await second.close();
  });

  it('a corrupt state file is a clear error, not a silent fresh start', async function () {
    const bad = path.join(tmp, 'bad.json');
    fs.writeFileSync(bad, '{not json');
    await assert.rejects(startSimulator({ port: 0, stateFile: bad }), /not valid JSON/);
  });

  it('demoFleet: preview/staging/production on 15.5 with a 15.8 db-upgrade pending, windows minutes away, DNS and security groups', async function () {
    const h: SimHarness = await startHarness();
    try {
      const now = h.clock.now();
      await h.admin.seed(demoFleet(now, { windowOffsetsMinutes: { preview: 5 } }));
      const out = await h.rds.send(new DescribeDBInstancesCommand({}));
      assert.deepEqual(out.DBInstances?.map((i) => [i.DBInstanceIdentifier, i.EngineVersion, i.AutoMinorVersionUpgrade]), [
        ['notifydb-preview', '15.5', false],
        ['notifydb-production', '15.5', false],
        ['notifydb-staging', '15.5', false],
      ]);
      const preview = out.DBInstances?.find((i) => i.DBInstanceIdentifier === demoInstanceId('preview'));
      assert.equal(preview?.PreferredMaintenanceWindow, 'mon:12:05-mon:12:35');
      const zone = '/hostedzone/ZDEMONOTIFY0001';
      const answer = await h.route53.send(
        new ChangeResourceRecordSetsCommand({
          HostedZoneId: zone,
          ChangeBatch: { Changes: [{ Action: 'UPSERT', ResourceRecordSet: { Name: 'db.preview.notify.internal', Type: 'CNAME', SetIdentifier: 'notifydb-preview', Weight: 100, TTL: 60, ResourceRecords: [{ Value: preview?.Endpoint?.Address as string }] } }] },
        }),
      );
      assert.equal((await h.route53.send(new GetChangeCommand({ Id: answer.ChangeInfo?.Id as string }))).ChangeInfo?.Status, 'PENDING');
      const sgs = await h.ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [DEMO_BASTION_SECURITY_GROUP_ID] }));
      assert.equal(sgs.SecurityGroups?.[0]?.GroupName, 'notify-bastion');
      await rejectsWith(h.rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: 'notifydb' })), 'DBInstanceNotFoundFault');
    } finally {
      await h.close();
    }
  });

  it('parses CLI flags and refuses bad ones with the usage', function () {
    assert.deepEqual(parseSimulatorArgs([]), { port: 4599, host: '127.0.0.1', speed: 1, seedDemo: false });
    assert.deepEqual(parseSimulatorArgs(['--port', '0', '--state', 's.json', '--speed', '60', '--route53-delay', '2', '--seed-demo']), {
      port: 0,
      host: '127.0.0.1',
      stateFile: 's.json',
      speed: 60,
      routeDelaySeconds: 2,
      seedDemo: true,
    });
    assert.throws(() => parseSimulatorArgs(['--speed', '0']), /--speed 0 is not valid/);
    assert.throws(() => parseSimulatorArgs(['--port']), /--port needs a value/);
    assert.throws(() => parseSimulatorArgs(['--bogus']), /unknown argument --bogus[\s\S]*usage/);
  });

  it('the CLI process prints its URL, serves, and exits cleanly on SIGTERM', async function () {
    this.timeout(30_000);
    const child = spawn(process.execPath, [require.resolve('ts-node/dist/bin'), '--transpile-only', path.join(__dirname, '../../src/main.ts'), '--port', '0', '--speed', '10', '--seed-demo'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (c: Buffer) => {
        out += c.toString();
        const m = /listening on (http:\/\/\S+)/.exec(out);
        if (m) resolve(m[1] as string);
      });
      child.once('exit', (code) => reject(new Error(`simulator exited early (${code}): ${out}`)));
    });
    assert.match(out, /seeded demo fleet: notifydb-preview, notifydb-staging, notifydb-production/);
    const health = await new SimAdminClient(url).health();
    assert.equal(health.speed, 10);
    const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    assert.equal(await exit, 0);
  });
});
