import assert from 'node:assert/strict';
import { formatMaintenanceWindow, isInWindow, nextWindowStartAfter, parseMaintenanceWindow } from '../../src/rds/window';
import { Catalogue, compareVersions, defaultCatalogue } from '../../src/rds/catalogue';

describe('sim: maintenance-window maths and catalogue', function () {
  const mon1200 = Date.UTC(2025, 0, 6, 12, 0, 0); // Monday

  it('finds the next opening, also for windows that wrap from Sunday into Monday', function () {
    assert.equal(new Date(nextWindowStartAfter(parseMaintenanceWindow('mon:12:10-mon:12:40'), mon1200)).toISOString(), '2025-01-06T12:10:00.000Z');
    assert.equal(new Date(nextWindowStartAfter(parseMaintenanceWindow('mon:11:00-mon:11:30'), mon1200)).toISOString(), '2025-01-13T11:00:00.000Z');
    const wrap = parseMaintenanceWindow('sun:23:30-mon:00:30');
    assert.equal(wrap.durationMinutes, 60);
    assert.equal(new Date(nextWindowStartAfter(wrap, mon1200)).toISOString(), '2025-01-12T23:30:00.000Z');
    assert.ok(isInWindow(wrap, Date.UTC(2025, 0, 6, 0, 15)));
    assert.ok(!isInWindow(wrap, Date.UTC(2025, 0, 6, 0, 30)));
    assert.equal(nextWindowStartAfter(parseMaintenanceWindow('mon:12:00-mon:12:30'), mon1200), mon1200 + 7 * 86_400_000, 'strictly after');
  });

  it('refuses malformed or too-short windows and formats windows from an instant', function () {
    assert.throws(() => parseMaintenanceWindow('monday 12:00'), /ddd:hh24:mi-ddd:hh24:mi/);
    assert.throws(() => parseMaintenanceWindow('mon:25:00-mon:26:00'), /ddd:hh24:mi/);
    assert.throws(() => parseMaintenanceWindow('mon:12:00-mon:12:29'), /at least 30 minutes/);
    assert.equal(formatMaintenanceWindow(Date.UTC(2025, 0, 12, 23, 50, 31), 30), 'sun:23:50-mon:00:20');
  });

  it('orders versions numerically and lists upgrade targets', function () {
    assert.equal(compareVersions('15.10', '15.8'), 1);
    assert.equal(compareVersions('15.8', '15.8'), 0);
    const cat = new Catalogue(defaultCatalogue());
    assert.equal(cat.autoUpgradeTargetFor('postgres', '15.5'), '15.8');
    assert.deepEqual(cat.validUpgradeTargets('postgres', '16.6'), []);
    assert.throws(() => new Catalogue([{ engine: 'postgres', major: '15', versions: ['15.1'], autoUpgradeTarget: '15.2' }]), /not one of its versions/);
  });
});
