/**
 * The simulator: the engine (sim/src/core) with every service plugged in. Services are built in the order
 * their dependencies need (RDS and Route 53 use EC2's VPCs and security groups), and seeded in the order the
 * seed spec's members may refer to one another.
 */
import { awsManagedKmsKeyArn } from './core/aws';
import type { EngineOptions } from './core/engine';
import { SimEngine } from './core/engine';
import type { RequestThrottle, TokenBucketSpec } from './core/throttle';
import { registerCloudTrail } from './cloudtrail/service';
import type { Ec2Model } from './ec2/model';
import { registerEc2 } from './ec2/service';
import type { PagerDutyModel } from './pagerduty/model';
import { registerPagerDuty } from './pagerduty/service';
import type { RdsDurations } from './rds/context';
import type { RdsModel } from './rds/model';
import { registerRds } from './rds/service';
import type { Route53Durations, Route53Model } from './route53/model';
import { registerRoute53 } from './route53/service';
import type { SecretsManagerModel } from './secretsmanager/model';
import { registerSecretsManager } from './secretsmanager/service';
import type { StatuspageModel } from './statuspage/model';
import { registerStatuspage } from './statuspage/service';
import type { StsModel } from './sts/model';
import { registerSts } from './sts/service';

/** How long each status lasts, in simulated seconds before `speed` divides them. */
export type Durations = RdsDurations & Route53Durations;

/**
 * POST /_sim/seed applies the spec's members in this order, so later ones may refer to earlier ones: roles before
 * the identities that assume them, VPCs before the security groups, subnet groups and private zones in them,
 * groups before the instances that use them, a replica's source before the replica.
 */
export const SEED_ORDER = ['catalogue', 'roles', 'identities', 'secrets', 'vpcs', 'securityGroups', 'dbSubnetGroups', 'dbParameterGroups', 'instances', 'hostedZones'] as const;

export interface SimulatorEngineOptions extends Omit<EngineOptions, 'durations'> {
  durations?: Partial<Durations>;
  /** RDS API token bucket per account and region (sim/src/rds/throttle.ts); absent = no throttling. */
  rdsThrottle?: TokenBucketSpec;
}

export class Simulator extends SimEngine {
  readonly ec2: Ec2Model;
  readonly sts: StsModel;
  readonly rds: RdsModel;
  readonly route53: Route53Model;
  readonly statuspage: StatuspageModel;
  readonly pagerDuty: PagerDutyModel;
  /** Secrets Manager: seeded secrets, and the master user secrets RDS manages. */
  readonly secretsManager: SecretsManagerModel;
  /** The RDS API's request throttling (off unless configured). */
  readonly rdsThrottle: RequestThrottle;

  constructor(opts: SimulatorEngineOptions = {}) {
    super(opts);
    this.ec2 = registerEc2(this);
    this.sts = registerSts(this);
    this.secretsManager = registerSecretsManager(this);
    ({ rds: this.rds, throttle: this.rdsThrottle } = registerRds(this, this.ec2, opts.rdsThrottle));
    // ManageMasterUserPassword: RDS keeps the master password in a secret of Secrets Manager (one per instance).
    this.rds.masterSecrets = {
      create: (inst, password) => ({
        arn: this.secretsManager.createRdsManagedSecret({ instanceId: inst.id, username: inst.masterUsername, password, account: inst.account, region: inst.region }),
        // Without MasterUserSecretKmsKeyId, "the aws/secretsmanager KMS key is used"; RDS names it by its key ARN.
        kmsKeyId: awsManagedKmsKeyArn(inst.account, inst.region, 'aws/secretsmanager'),
      }),
    };
    this.route53 = registerRoute53(this, this.ec2);
    registerCloudTrail(this);
    this.statuspage = registerStatuspage(this);
    this.pagerDuty = registerPagerDuty(this);
    this.seedInOrder(SEED_ORDER);
  }
}
