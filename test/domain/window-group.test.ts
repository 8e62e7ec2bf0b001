/** A window group in words: its start and end, its instances or how many with how to list them (src/domain/window-group.ts). */
import assert from 'node:assert/strict';
import { describeWindow, describeWindowGroup, describeWindowGroups, instanceNames } from '../../src/domain/window-group';

describe('window groups in words', function () {
  it('names the start and the end: two groups opening at the same minute read differently', function () {
    const a = describeWindowGroup({ start: '2026-12-06T02:20:00.000Z', end: '2026-12-06T02:50:00.000Z', instances: ['notifydb-production', 'notifydb-production-2'] });
    const b = describeWindowGroup({ start: Date.parse('2026-12-06T02:20:00.000Z'), end: Date.parse('2026-12-06T03:05:00.000Z'), instances: ['notifydb-production-3'] });
    assert.equal(a, 'Sun 2026-12-06 02:20–02:50 UTC (notifydb-production, notifydb-production-2)');
    assert.equal(b, 'Sun 2026-12-06 02:20–03:05 UTC (notifydb-production-3)');
    assert.notEqual(a.replace(/\(.*\)/, ''), b.replace(/\(.*\)/, ''));
  });

  it('a window past midnight names the day it ends', function () {
    assert.equal(describeWindow('2026-12-05T23:50:00.000Z', '2026-12-06T00:20:00.000Z'), 'Sat 2026-12-05 23:50–Sun 2026-12-06 00:20 UTC');
  });

  it('many instances, or only a count: how many, and how to list them', function () {
    const names = Array.from({ length: 12 }, (_, i) => `db-${i}`);
    assert.equal(describeWindowGroup({ start: '2026-12-06T02:20:00Z', end: '2026-12-06T02:50:00Z', instances: names }, '`campaign status x --all` lists them'), 'Sun 2026-12-06 02:20–02:50 UTC (12 instances; `campaign status x --all` lists them)');
    assert.equal(describeWindowGroup({ start: '2026-12-06T02:20:00Z', end: '2026-12-06T02:50:00Z', instances: 1 }), 'Sun 2026-12-06 02:20–02:50 UTC (1 instance)');
  });

  it('several groups in order; region-qualified names where a stage spans regions', function () {
    const groups = [
      { start: '2026-12-06T02:20:00Z', end: '2026-12-06T02:50:00Z', instances: ['a'] },
      { start: '2026-12-06T02:20:00Z', end: '2026-12-06T03:05:00Z', instances: ['b'] },
    ];
    assert.equal(describeWindowGroups(groups), 'Sun 2026-12-06 02:20–02:50 UTC (a); Sun 2026-12-06 02:20–03:05 UTC (b)');
    const members = [{ region: 'eu-west-2', instanceId: 'a' }, { region: 'us-east-1', instanceId: 'b' }];
    assert.deepEqual(instanceNames(members, 1), ['a', 'b']);
    assert.deepEqual(instanceNames(members, 2), ['eu-west-2/a', 'us-east-1/b']);
  });
});
