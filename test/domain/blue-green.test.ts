/** What a Blue/Green upgrade leaves behind, as the follow-ups name it (src/domain/blue-green.ts). */
import assert from 'node:assert/strict';
import { blueGreenLeftovers, oldBlueOf } from '../../src/domain/blue-green';

const base = { region: 'eu-west-2', instanceId: 'notify-production', deploymentId: 'bgd-1', greenInstanceId: 'notify-production-green-abc123' };

describe('domain: what a Blue/Green upgrade leaves behind', function () {
  it('the old blue is the one the switched-over deployment names (-old2 after an earlier -old1), -old1 when it names none', function () {
    assert.equal(oldBlueOf({ sourceArn: 'arn:aws:rds:eu-west-2:123456789012:db:notify-production-old2' }, 'notify-production'), 'notify-production-old2');
    assert.equal(oldBlueOf({ sourceArn: 'arn:aws:rds:eu-west-2:123456789012:db:notify-production' }, 'notify-production'), 'notify-production-old1');
    assert.equal(oldBlueOf({ sourceArn: 'arn:aws:rds:eu-west-2:123456789012:db:notify-production-older' }, 'notify-production'), 'notify-production-old1');
  });

  it('stopped mid-switchover: says to look at the status first, names both outcomes, and gives no delete command', function () {
    const text = blueGreenLeftovers({ ...base, switched: false, inProgress: true });
    assert.match(text, /was switching over when the run stopped: look at its status first/);
    assert.match(text, /SWITCHOVER_COMPLETED: notify-production is the upgraded copy and the old blue is notify-production-old1/);
    assert.doesNotMatch(text, /--delete-target|delete-db-instance/);
    assert.match(blueGreenLeftovers({ ...base, switched: false }), /--delete-target/, 'not switched over: the green copy can go with the deployment');
  });
});
