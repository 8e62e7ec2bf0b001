/**
 * EC2 security-group activities: the restore runbook opens the database's security group to the
 * application's security group on the PostgreSQL port. An identical existing rule is success.
 */
import { AuthorizeSecurityGroupIngressCommand, type EC2Client } from '@aws-sdk/client-ec2';
import { isAwsError, toActivityError } from './aws-errors';
import type { Ec2Activities, MutationResult } from './types';

export interface Ec2ActivitiesDeps {
  ec2ClientFor: (region: string) => EC2Client;
}

export function createEc2Activities(deps: Ec2ActivitiesDeps): Ec2Activities {
  async function allowIngressFromSecurityGroup(
    region: string,
    securityGroupId: string,
    sourceSecurityGroupId: string,
    port: number,
  ): Promise<MutationResult> {
    const rule = `tcp ${port} from ${sourceSecurityGroupId} on ${securityGroupId}`;
    try {
      await deps.ec2ClientFor(region).send(
        new AuthorizeSecurityGroupIngressCommand({
          GroupId: securityGroupId,
          IpPermissions: [
            {
              IpProtocol: 'tcp',
              FromPort: port,
              ToPort: port,
              UserIdGroupPairs: [{ GroupId: sourceSecurityGroupId, Description: 'rds-orchestrator' }],
            },
          ],
        }),
      );
    } catch (err) {
      // EC2 has no "add if absent": the duplicate error is how it says the rule is already there.
      if (isAwsError(err, 'InvalidPermission.Duplicate')) return { changed: false, detail: `ingress ${rule} already exists` };
      throw toActivityError(err, { operation: `AuthorizeSecurityGroupIngress ${rule}`, region });
    }
    return { changed: true, detail: `allowed ingress ${rule}` };
  }

  return { allowIngressFromSecurityGroup };
}
