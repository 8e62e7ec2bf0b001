/**
 * moto's server, an implementation of AWS nobody here wrote, for end-to-end runs of the product's real
 * activities: started once per test file on a free port, reset and seeded per test with the AWS world a
 * restore needs (VPC, subnets, DB subnet group, security groups, a PostgreSQL instance with automated
 * backups, a hosted zone holding a weighted CNAME), read back through the SDK, and with moto's own IAM
 * enforcement (`/moto-api/reset-auth`) so a permission the worker lacks fails the way AWS fails it.
 *
 * Every request moto serves is in its access log (werkzeug, stderr), which this launcher keeps: a Route 53
 * REST call shows as its path (`GET /2013-04-01/testdnsanswer?...`), so a test can tell which calls
 * reached moto, including those moto does not implement (404).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawnMotoServer } from '../../sim/test/moto-server';
import {
  CreateDBInstanceCommand,
  CreateDBSubnetGroupCommand,
  DescribeDBInstancesCommand,
  RDSClient,
  type DBInstance,
} from '@aws-sdk/client-rds';
import {
  ChangeResourceRecordSetsCommand,
  CreateHostedZoneCommand,
  ListResourceRecordSetsCommand,
  Route53Client,
  type ResourceRecordSet,
} from '@aws-sdk/client-route-53';
import {
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  DescribeSecurityGroupsCommand,
  EC2Client,
  type SecurityGroup,
} from '@aws-sdk/client-ec2';

export const REGION = 'eu-west-2';

export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
}

/** One request moto answered, from its access log. */
export interface MotoRequest {
  method: string;
  /** Path and query as sent (Route 53 is REST: the path names the call). */
  path: string;
  status: number;
}

export interface Moto {
  url: string;
  /** Every request moto answered since it started, oldest first. */
  requests(): MotoRequest[];
  /** Forgets every resource (and IAM user) in every service. */
  reset(): Promise<void>;
  /** moto checks signatures and IAM policies from now on (true), or accepts any request (false). */
  enforceIam(on: boolean): Promise<void>;
  /** An IAM user allowed exactly `actions` (e.g. "rds:StopDBInstance"; "*" for everything), and its access key. */
  createUser(name: string, actions: string[]): Promise<Credentials>;
  stop(): Promise<void>;
}

// 127.0.0.1 - - [25/Nov/2026 14:20:26] "GET /2013-04-01/testdnsanswer?... HTTP/1.1" 404 -   (ANSI colours stripped)
const ACCESS_LINE = /"([A-Z]+) (\S+) HTTP\/[\d.]+" (\d{3}) /;
// eslint-disable-next-line no-control-regex
const ANSI = /\x1b\[[0-9;]*m/g;

export async function startMoto(): Promise<Moto> {
  const { url, child } = await spawnMotoServer(['ignore', 'ignore', 'pipe']);
  const log: MotoRequest[] = [];
  let partial = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (chunk: string) => {
    const lines = (partial + chunk).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      const m = ACCESS_LINE.exec(line.replace(ANSI, ''));
      if (m) log.push({ method: m[1], path: m[2], status: Number(m[3]) });
    }
  });

  async function motoApi(route: string, body = ''): Promise<void> {
    // reset-auth reads the raw body as a number: send it as text/plain, not as a form.
    const res = await fetch(`${url}/moto-api/${route}`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body });
    if (!res.ok) throw new Error(`moto-api/${route} answered ${res.status}: ${await res.text()}`);
  }

  /** IAM's query API, unsigned: only while IAM is not enforced (there is no IAM client in this project). */
  async function iam(params: Record<string, string>): Promise<string> {
    const res = await fetch(`${url}/`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: 'AWS4-HMAC-SHA256 Credential=seed/20250101/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=seed',
      },
      body: new URLSearchParams({ Version: '2010-05-08', ...params }).toString(),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`IAM ${params.Action} answered ${res.status}: ${text}`);
    return text;
  }

  return {
    url,
    requests: () => [...log],
    reset: () => motoApi('reset'),
    enforceIam: (on) => motoApi('reset-auth', on ? '0' : 'inf'),
    async createUser(name, actions) {
      await iam({ Action: 'CreateUser', UserName: name });
      const policy = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: actions, Resource: '*' }] };
      await iam({ Action: 'PutUserPolicy', UserName: name, PolicyName: `${name}-policy`, PolicyDocument: JSON.stringify(policy) });
      const key = await iam({ Action: 'CreateAccessKey', UserName: name });
      const field = (f: string) => {
        const m = new RegExp(`<${f}>([^<]+)</${f}>`).exec(key);
        assert.ok(m, `CreateAccessKey for ${name} returned no ${f}: ${key}`);
        return m[1];
      };
      return { accessKeyId: field('AccessKeyId'), secretAccessKey: field('SecretAccessKey') };
    },
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** SDK clients for the test's own seeding and reading (not the product's). */
export class MotoClients {
  readonly rds: RDSClient;
  readonly ec2: EC2Client;
  readonly route53: Route53Client;

  constructor(url: string, credentials: Credentials) {
    const config = { endpoint: url, credentials, maxAttempts: 1 };
    this.rds = new RDSClient({ ...config, region: REGION });
    this.ec2 = new EC2Client({ ...config, region: REGION });
    this.route53 = new Route53Client({ ...config, region: 'us-east-1' });
  }

  async instance(id: string): Promise<DBInstance | undefined> {
    try {
      return (await this.rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: id }))).DBInstances?.[0];
    } catch (err) {
      if ((err as Error).name === 'DBInstanceNotFoundFault') return undefined;
      throw err;
    }
  }

  async securityGroups(filters: Record<string, string>): Promise<SecurityGroup[]> {
    const out = await this.ec2.send(new DescribeSecurityGroupsCommand({ Filters: Object.entries(filters).map(([Name, v]) => ({ Name, Values: [v] })) }));
    return out.SecurityGroups ?? [];
  }

  async securityGroup(groupId: string): Promise<SecurityGroup> {
    const [group] = await this.securityGroups({ 'group-id': groupId });
    assert.ok(group, `no security group ${groupId} in moto`);
    return group;
  }

  /** The weighted CNAME record sets named `recordName`, by set identifier. */
  async weightedCnames(zoneId: string, recordName: string): Promise<Record<string, ResourceRecordSet>> {
    const out = await this.route53.send(new ListResourceRecordSetsCommand({ HostedZoneId: zoneId }));
    const want = `${recordName.toLowerCase().replace(/\.$/, '')}.`;
    const sets: Record<string, ResourceRecordSet> = {};
    for (const r of out.ResourceRecordSets ?? []) {
      if (r.Type === 'CNAME' && r.Name?.toLowerCase() === want && r.SetIdentifier) sets[r.SetIdentifier] = r;
    }
    return sets;
  }

  destroy(): void {
    this.rds.destroy();
    this.ec2.destroy();
    this.route53.destroy();
  }
}

export interface RestoreWorld {
  vpcId: string;
  /** The source instance's own security group (apps may reach it on 5432). */
  dbGroupId: string;
  appGroupId: string;
  bastionGroupId: string;
  subnetGroupName: string;
  sourceId: string;
  sourceEndpoint: string;
  /** Bare id (moto answers "/hostedzone/<id>"). */
  zoneId: string;
  zoneName: string;
  recordName: string;
  /** The weighted set the applications use, and a second one the cutover must leave alone. */
  setIdentifier: string;
  standbySetIdentifier: string;
  standbyValue: string;
}

/**
 * The source database as the runbook's Terraform leaves it: PostgreSQL 15 in a DB subnet group of a VPC,
 * with its own security group (apps allowed in), automated backups for 7 days (so point-in-time restore
 * works), and `db.<zone>` a weighted CNAME to its endpoint in a private hosted zone associated with that VPC
 * (or a public zone).
 */
export async function seedRestoreWorld(c: MotoClients, opts: { zone: 'private' | 'public'; sourceId?: string }): Promise<RestoreWorld> {
  const sourceId = opts.sourceId ?? 'notify-production';
  const vpc = await c.ec2.send(new CreateVpcCommand({ CidrBlock: '10.20.0.0/16' }));
  const vpcId = vpc.Vpc!.VpcId!;
  const subnets = await Promise.all(
    ['a', 'b'].map((az, i) => c.ec2.send(new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: `10.20.${i + 1}.0/24`, AvailabilityZone: `${REGION}${az}` }))),
  );
  const subnetGroupName = 'notify-db-subnets';
  await c.rds.send(
    new CreateDBSubnetGroupCommand({ DBSubnetGroupName: subnetGroupName, DBSubnetGroupDescription: 'notify databases', SubnetIds: subnets.map((s) => s.Subnet!.SubnetId!) }),
  );
  const group = async (name: string) => (await c.ec2.send(new CreateSecurityGroupCommand({ GroupName: name, Description: name, VpcId: vpcId }))).GroupId!;
  const dbGroupId = await group('notify-db');
  const appGroupId = await group('notify-app');
  const bastionGroupId = await group('bastion');
  await c.ec2.send(
    new AuthorizeSecurityGroupIngressCommand({
      GroupId: dbGroupId,
      IpPermissions: [{ IpProtocol: 'tcp', FromPort: 5432, ToPort: 5432, UserIdGroupPairs: [{ GroupId: appGroupId, Description: 'notify apps' }] }],
    }),
  );
  const created = await c.rds.send(
    new CreateDBInstanceCommand({
      DBInstanceIdentifier: sourceId,
      DBInstanceClass: 'db.m6g.large',
      Engine: 'postgres',
      EngineVersion: '15.5',
      AllocatedStorage: 100,
      StorageType: 'gp3',
      MasterUsername: 'notify',
      MasterUserPassword: 'not-a-secret-1',
      BackupRetentionPeriod: 7,
      DBSubnetGroupName: subnetGroupName,
      VpcSecurityGroupIds: [dbGroupId],
      MultiAZ: false,
      PreferredMaintenanceWindow: 'wed:22:00-wed:22:30',
      Tags: [
        { Key: 'environment', Value: 'production' },
        { Key: 'team', Value: 'notify' },
      ],
    }),
  );
  const sourceEndpoint = created.DBInstance?.Endpoint?.Address ?? (await c.instance(sourceId))?.Endpoint?.Address;
  assert.ok(sourceEndpoint, `moto reported no endpoint for ${sourceId}`);

  const zoneName = opts.zone === 'private' ? 'notify.internal' : 'notify.example.com';
  const zone = await c.route53.send(
    new CreateHostedZoneCommand({
      Name: zoneName,
      CallerReference: `seed-${opts.zone}-${Date.now()}`,
      ...(opts.zone === 'private' ? { VPC: { VPCId: vpcId, VPCRegion: REGION }, HostedZoneConfig: { PrivateZone: true, Comment: 'notify, inside the VPC' } } : {}),
    }),
  );
  const zoneId = zone.HostedZone!.Id!.replace(/^\/hostedzone\//, '');
  const recordName = `db.${zoneName}`;
  const world: RestoreWorld = {
    vpcId,
    dbGroupId,
    appGroupId,
    bastionGroupId,
    subnetGroupName,
    sourceId,
    sourceEndpoint,
    zoneId,
    zoneName,
    recordName,
    setIdentifier: 'blue',
    standbySetIdentifier: 'green',
    standbyValue: 'notify-standby.example.com',
  };
  await c.route53.send(
    new ChangeResourceRecordSetsCommand({
      HostedZoneId: zoneId,
      ChangeBatch: {
        Changes: [
          { Action: 'CREATE', ResourceRecordSet: { Name: recordName, Type: 'CNAME', SetIdentifier: world.setIdentifier, Weight: 100, TTL: 300, ResourceRecords: [{ Value: sourceEndpoint }] } },
          { Action: 'CREATE', ResourceRecordSet: { Name: recordName, Type: 'CNAME', SetIdentifier: world.standbySetIdentifier, Weight: 0, TTL: 300, ResourceRecords: [{ Value: world.standbyValue }] } },
        ],
      },
    }),
  );
  return world;
}

/**
 * The worker's AWS permissions as README.md documents them (the "**AWS.**" paragraph of "Running it"):
 * every backticked `rds:…`, `ec2:…` and `route53:…` action.
 */
export function documentedWorkerPermissions(): string[] {
  const readme = fs.readFileSync(path.resolve(__dirname, '../../README.md'), 'utf8');
  const start = readme.indexOf('**AWS.**');
  assert.ok(start >= 0, 'README.md has no "**AWS.**" paragraph listing the worker\'s permissions');
  const paragraph = readme.slice(start, readme.indexOf('\n\n', start) === -1 ? undefined : readme.indexOf('\n\n', start));
  const actions = [...paragraph.matchAll(/`((?:rds|ec2|route53):[A-Za-z]+)`/g)].map((m) => m[1]);
  assert.ok(actions.length > 0, `README.md's "**AWS.**" paragraph names no permission: ${paragraph}`);
  return [...new Set(actions)];
}
