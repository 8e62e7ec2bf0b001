import assert from 'node:assert/strict';
import { DAY_MS, HOUR_MS, MINUTE_MS, SECOND_MS, DurationError, WEEK_MS, formatDuration, parseDuration } from '../../src/domain/duration';

function problemOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof DurationError, `expected a DurationError, got ${String(error)}`);
    return error.message;
  }
  assert.fail('expected a DurationError');
}

describe('duration: parseDuration', function () {
  const cases: [string | number, number][] = [
    [0, 0],
    [1500, 1500],
    ['14d', 14 * DAY_MS],
    ['14 days', 14 * DAY_MS],
    ['3 days', 3 * DAY_MS],
    ['1 day', DAY_MS],
    ['90s', 90 * SECOND_MS],
    ['2m', 2 * MINUTE_MS],
    ['2 minutes', 2 * MINUTE_MS],
    ['1h30m', HOUR_MS + 30 * MINUTE_MS],
    ['1h 30m', HOUR_MS + 30 * MINUTE_MS],
    ['1 hour and 30 minutes', HOUR_MS + 30 * MINUTE_MS],
    ['1 hour, 30 minutes', HOUR_MS + 30 * MINUTE_MS],
    ['1 hour', HOUR_MS],
    ['500ms', 500],
    ['1w', WEEK_MS],
    ['2 weeks', 2 * WEEK_MS],
    ['1.5h', 90 * MINUTE_MS],
    ['  45 SECONDS ', 45 * SECOND_MS],
    ['1d2h3m4s5ms', DAY_MS + 2 * HOUR_MS + 3 * MINUTE_MS + 4 * SECOND_MS + 5],
  ];
  for (const [spec, expected] of cases) {
    it(`reads ${JSON.stringify(spec)} as ${expected} ms`, function () {
      assert.equal(parseDuration(spec, 'field'), expected);
    });
  }

  const bad: [unknown, RegExp][] = [
    ['', /empty duration/],
    ['soon', /could not read "soon".*"14d"/],
    ['5000', /"5000" has no unit.*"5000ms"/],
    ['2 fortnights', /unknown unit "fortnights".*"14d"/],
    ['-5s', /could not read "-5s"/],
    ['1h30', /could not read "1h30"/],
    ['1h and', /could not read/],
    [-1, /-1 is not a valid duration/],
    [Number.NaN, /NaN is not a valid duration/],
    [Number.POSITIVE_INFINITY, /Infinity is not a valid duration/],
    [true, /expected a duration.*got boolean true/],
    [{ days: 3 }, /expected a duration.*got an object/],
  ];
  for (const [spec, pattern] of bad) {
    it(`refuses ${String(JSON.stringify(spec) ?? spec)} with a DurationError naming the field and showing an example`, function () {
      const problem = problemOf(() => parseDuration(spec as string, 'stages[2].grace'));
      assert.ok(problem.startsWith('stages[2].grace: '), problem);
      assert.match(problem, pattern);
    });
  }

  it('puts the problem in the error message too', function () {
    assert.throws(() => parseDuration('soon', 'pollInterval'), (error: Error) => /pollInterval: could not read "soon"/.test(error.message));
  });
});

describe('duration: formatDuration', function () {
  const cases: [number, string][] = [
    [0, '0s'],
    [500, '500ms'],
    [45 * SECOND_MS, '45s'],
    [90 * SECOND_MS, '1m 30s'],
    [2 * HOUR_MS + 5 * MINUTE_MS, '2h 5m'],
    [14 * DAY_MS, '14d'],
    [DAY_MS + 1, '1d 1ms'],
    [-90 * SECOND_MS, '-1m 30s'],
  ];
  for (const [ms, text] of cases) {
    it(`formats ${ms} ms as "${text}"`, function () {
      assert.equal(formatDuration(ms), text);
    });
  }

  it('round-trips through parseDuration for many values', function () {
    let seed = 12345;
    for (let i = 0; i < 2000; i++) {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      const ms = seed % (60 * DAY_MS);
      assert.equal(parseDuration(formatDuration(ms), 'x'), ms, formatDuration(ms));
    }
  });
});
