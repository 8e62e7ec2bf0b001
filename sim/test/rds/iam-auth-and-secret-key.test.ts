// IAM database authentication (EnableIAMDatabaseAuthentication → IAMDatabaseAuthenticationEnabled) on create,
// modify, seed and point-in-time restore; and the KMS key RDS names in MasterUserSecret.
import assert from 'node:assert/strict';
import { CreateDBInstanceCommand, ModifyDBInstanceCommand, RestoreDBInstanceToPointInTimeCommand } from '@aws-sdk/client-rds';
import { awsManagedKmsKeyArn } from '../../src/core/aws';
import { ACCOUNT, REGION, startHarness } from '../helpers';
import type { SimHarness } from '../helpers';
import { rdsReads } from './reads';

describe('sim: RDS IAM database authentication and the master user secret KMS key', function () {
  let h: SimHarness;

  beforeEach(async function () {
    h = await startHarness();
  });
  afterEach(async function () {
    await h.close();
  });

  const { describeOne, seedInstance } = rdsReads(() => h);

  it('RestoreDBInstanceToPointInTime takes EnableIAMDatabaseAuthentication; without it mapping is not enabled, whatever the source has', async function () {
    await seedInstance('src', { iamDatabaseAuthentication: true });
    assert.equal((await describeOne('src')).IAMDatabaseAuthenticationEnabled, true, 'seeded on');
    const on = await h.rds.send(new RestoreDBInstanceToPointInTimeCommand({ SourceDBInstanceIdentifier: 'src', TargetDBInstanceIdentifier: 'with-iam', UseLatestRestorableTime: true, EnableIAMDatabaseAuthentication: true }));
    assert.equal(on.DBInstance?.IAMDatabaseAuthenticationEnabled, true, 'in the restore answer');
    const off = await h.rds.send(new RestoreDBInstanceToPointInTimeCommand({ SourceDBInstanceIdentifier: 'src', TargetDBInstanceIdentifier: 'without-iam', UseLatestRestorableTime: true }));
    assert.equal(off.DBInstance?.IAMDatabaseAuthenticationEnabled, false, '"By default, mapping isn\'t enabled": not copied from the source');
    h.advance(120);
    const restored = await describeOne('with-iam');
    assert.equal(restored.DBInstanceStatus, 'available');
    assert.equal(restored.IAMDatabaseAuthenticationEnabled, true, 'kept once available');
    assert.equal((await describeOne('without-iam')).IAMDatabaseAuthenticationEnabled, false);
  });

  it('CreateDBInstance and ModifyDBInstance take EnableIAMDatabaseAuthentication; a seeded instance has it off by default', async function () {
    await seedInstance('plain');
    assert.equal((await describeOne('plain')).IAMDatabaseAuthenticationEnabled, false);
    const created = await h.rds.send(
      new CreateDBInstanceCommand({ DBInstanceIdentifier: 'orders', DBInstanceClass: 'db.t3.micro', Engine: 'postgres', EngineVersion: '15.5', AllocatedStorage: 20, MasterUsername: 'master', MasterUserPassword: 'a-long-password', EnableIAMDatabaseAuthentication: true }),
    );
    assert.equal(created.DBInstance?.IAMDatabaseAuthenticationEnabled, true);
    const on = await h.rds.send(new ModifyDBInstanceCommand({ DBInstanceIdentifier: 'plain', EnableIAMDatabaseAuthentication: true }));
    assert.equal(on.DBInstance?.IAMDatabaseAuthenticationEnabled, true);
    assert.equal((await describeOne('plain')).IAMDatabaseAuthenticationEnabled, true);
    await h.rds.send(new ModifyDBInstanceCommand({ DBInstanceIdentifier: 'plain', DeletionProtection: true }));
    assert.equal((await describeOne('plain')).IAMDatabaseAuthenticationEnabled, true, 'a modify without it leaves it');
    await h.rds.send(new ModifyDBInstanceCommand({ DBInstanceIdentifier: 'plain', EnableIAMDatabaseAuthentication: false }));
    assert.equal((await describeOne('plain')).IAMDatabaseAuthenticationEnabled, false);
  });

  it("MasterUserSecret.KmsKeyId is the key ARN of the account's aws/secretsmanager key in the Region (a UUID key id, not an alias), the same for every instance there", async function () {
    const managed = { masterUsername: 'master', masterUserPassword: 'a-long-password', manageMasterUserPassword: true };
    await h.admin.seed({
      instances: [
        { region: REGION, id: 'a', engineVersion: '15.5', ...managed },
        { region: REGION, id: 'b', engineVersion: '15.5', ...managed },
        { region: 'eu-west-1', id: 'c', engineVersion: '15.5', ...managed },
        { region: REGION, account: '444444444444', id: 'd', engineVersion: '15.5', ...managed },
      ],
    });
    const key = (await describeOne('a')).MasterUserSecret?.KmsKeyId ?? '';
    assert.match(key, new RegExp(`^arn:aws:kms:${REGION}:${ACCOUNT}:key/[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`));
    assert.equal((await describeOne('b')).MasterUserSecret?.KmsKeyId, key, 'one aws/secretsmanager key per account and Region');
    assert.equal(key, awsManagedKmsKeyArn(ACCOUNT, REGION, 'aws/secretsmanager'), 'stable: derived from account and Region, so a restart names the same key');
    const c = h.sim.engine.rds.get(ACCOUNT, 'eu-west-1', 'c').masterUserSecret?.kmsKeyId ?? '';
    const d = h.sim.engine.rds.get('444444444444', REGION, 'd').masterUserSecret?.kmsKeyId ?? '';
    assert.match(c, /^arn:aws:kms:eu-west-1:123456789012:key\//);
    assert.match(d, new RegExp(`^arn:aws:kms:${REGION}:444444444444:key/`));
    assert.equal(new Set([key, c, d].map((k) => k.split('/')[1])).size, 3, 'another Region or account has another key');
  });
});
