import assert from 'node:assert/strict';
import {
  Blackout,
  InvalidWindowError,
  MAX_WEEKS_SEARCHED,
  NoWindowAvailableError,
  Occurrence,
  WeeklyWindow,
  firstWindowAtLeast,
  nextWindowAvoidingBlackouts,
  nextWindowStartingAfter,
  parseMaintenanceWindow,
  toIso,
  windowContaining,
} from '../../src/domain/maintenance-window';

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
const WEEK = 7 * DAY;
const DAY_NAMES = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];

/** mulberry32: a tiny seeded PRNG so failures reproduce. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function int(random: () => number, min: number, maxInclusive: number): number {
  return min + Math.floor(random() * (maxInclusive - min + 1));
}

const pad = (n: number) => String(n).padStart(2, '0');
const at = (iso: string) => Date.parse(iso);

/** Minute of the week (Monday 00:00 UTC = 0) computed with Date getters, independently of the module. */
function minuteOfWeekByCalendar(ms: number): number {
  const d = new Date(ms);
  return ((d.getUTCDay() + 6) % 7) * 1440 + d.getUTCHours() * 60 + d.getUTCMinutes();
}

interface Generated {
  text: string;
  start: number;
  end: number;
  duration: number;
}

function generateWindow(random: () => number): Generated {
  const start = int(random, 0, 10079);
  let end = int(random, 0, 10079);
  if (random() < 0.3) end = (start + int(random, 1, 240)) % 10080; // short windows, often wrapping midnight or the week
  if (end === start) end = (start + 30) % 10080;
  const fmt = (m: number) => `${DAY_NAMES[Math.floor(m / 1440)]}:${pad(Math.floor((m % 1440) / 60))}:${pad(m % 60)}`;
  let text = `${fmt(start)}-${fmt(end)}`;
  if (random() < 0.3) text = text.toUpperCase();
  return { text, start, end, duration: (end - start + 10080) % 10080 };
}

/** Instants spread over 1990..2050, plus instants right on and around occurrence boundaries. */
function generateInstant(random: () => number, g: Generated): number {
  const base = at('1990-01-01T00:00:00Z') + Math.floor(random() * 60 * 365 * DAY);
  if (random() < 0.5) return base;
  // Snap to this window's start or end in base's week, then nudge by -1ms, 0 or +1ms.
  const weekStart = base - minuteOfWeekByCalendar(base) * MINUTE - (base % MINUTE);
  const boundary = weekStart + (random() < 0.5 ? g.start : g.start + g.duration) * MINUTE;
  return boundary + int(random, -1, 1);
}

function assertIsOccurrence(o: Occurrence, g: Generated, context: string): void {
  assert.equal(o.startMs % MINUTE, 0, `${context}: start on a whole minute`);
  assert.equal(minuteOfWeekByCalendar(o.startMs), g.start, `${context}: start ${toIso(o.startMs)} matches ${g.text}`);
  assert.equal(minuteOfWeekByCalendar(o.endMs), g.end, `${context}: end ${toIso(o.endMs)} matches ${g.text}`);
  assert.equal(o.endMs - o.startMs, g.duration * MINUTE, `${context}: duration`);
}

describe('maintenance window: parsing', function () {
  it('parses a window inside one day', function () {
    assert.deepEqual(parseMaintenanceWindow('tue:03:00-tue:03:30'), { text: 'tue:03:00-tue:03:30', startMinuteOfWeek: 1440 + 180, durationMinutes: 30 });
  });

  it('parses a window spanning midnight', function () {
    const w = parseMaintenanceWindow('tue:23:00-wed:01:00');
    assert.equal(w.startMinuteOfWeek, 1440 + 23 * 60);
    assert.equal(w.durationMinutes, 120);
  });

  it('parses a window wrapping over the end of the week', function () {
    const w = parseMaintenanceWindow('sun:23:30-mon:00:30');
    assert.equal(w.startMinuteOfWeek, 6 * 1440 + 23 * 60 + 30);
    assert.equal(w.durationMinutes, 60);
  });

  it('accepts any case and surrounding space, and normalises the text', function () {
    const w = parseMaintenanceWindow('  SUN:05:00-Sun:05:30 ');
    assert.equal(w.text, 'sun:05:00-sun:05:30');
    assert.equal(w.durationMinutes, 30);
  });

  it('accepts windows shorter than AWS minimum (the simulator uses short ones)', function () {
    assert.equal(parseMaintenanceWindow('wed:10:00-wed:10:01').durationMinutes, 1);
  });

  it('reads a window whose end is earlier in the same day as almost a whole week', function () {
    assert.equal(parseMaintenanceWindow('mon:10:00-mon:09:59').durationMinutes, 10079);
  });

  const malformed: [string, RegExp][] = [
    ['', /expected "ddd:hh24:mi-ddd:hh24:mi"/],
    ['sun:23:30', /expected "ddd:hh24:mi-ddd:hh24:mi"/],
    ['sun 23:30-mon 00:30', /expected/],
    ['sun:5:00-sun:5:30', /expected/],
    ['xyz:05:00-sun:05:30', /unknown day "xyz"/],
    ['sun:24:00-mon:00:30', /24:00 is not a time of day/],
    ['sun:05:60-sun:06:30', /05:60 is not a time of day/],
    ['sun:05:00-sun:05:00', /zero length/],
  ];
  for (const [text, pattern] of malformed) {
    it(`refuses ${JSON.stringify(text)} quoting it and showing the format`, function () {
      assert.throws(
        () => parseMaintenanceWindow(text),
        (error: Error) => {
          assert.ok(error instanceof InvalidWindowError, String(error));
          assert.ok(error.message.includes(`"${text}"`), error.message);
          assert.match(error.message, /sun:23:30-mon:00:30/);
          assert.match(error.message, pattern);
          return true;
        },
      );
    });
  }

  it('property: parsed start and duration match the text for many generated windows', function () {
    const random = prng(1);
    for (let i = 0; i < 2000; i++) {
      const g = generateWindow(random);
      const w = parseMaintenanceWindow(g.text);
      assert.equal(w.startMinuteOfWeek, g.start, g.text);
      assert.equal(w.durationMinutes, g.duration, g.text);
      assert.equal(w.text, g.text.toLowerCase());
      assert.deepEqual(parseMaintenanceWindow(w.text), w, 'normalised text parses to the same window');
    }
  });
});

describe('maintenance window: occurrences (examples)', function () {
  // 2025-01-06 is a Monday; 2025-01-05 a Sunday.
  const wrap = parseMaintenanceWindow('sun:23:30-mon:00:30');

  it('finds the occurrence containing an instant just before the week ends', function () {
    assert.deepEqual(windowContaining(wrap, at('2025-01-05T23:45:00Z')), { startMs: at('2025-01-05T23:30:00Z'), endMs: at('2025-01-06T00:30:00Z') });
  });

  it('finds the occurrence containing an instant just after the week starts (it began last week)', function () {
    assert.deepEqual(windowContaining(wrap, at('2025-01-06T00:15:00Z')), { startMs: at('2025-01-05T23:30:00Z'), endMs: at('2025-01-06T00:30:00Z') });
  });

  it('treats the start as inside and the end as outside', function () {
    assert.ok(windowContaining(wrap, at('2025-01-05T23:30:00Z')));
    assert.equal(windowContaining(wrap, at('2025-01-06T00:30:00Z')), undefined);
    assert.equal(windowContaining(wrap, at('2025-01-05T23:29:59.999Z')), undefined);
  });

  it('accepts the window as text', function () {
    assert.deepEqual(windowContaining('tue:23:00-wed:01:00', at('2025-01-08T00:59:00Z')), { startMs: at('2025-01-07T23:00:00Z'), endMs: at('2025-01-08T01:00:00Z') });
  });

  it('next window: strictly after, so an instant on a start gets the following week', function () {
    assert.deepEqual(nextWindowStartingAfter(wrap, at('2025-01-05T23:30:00Z')), { startMs: at('2025-01-12T23:30:00Z'), endMs: at('2025-01-13T00:30:00Z') });
    assert.deepEqual(nextWindowStartingAfter(wrap, at('2025-01-05T23:29:59.999Z')), { startMs: at('2025-01-05T23:30:00Z'), endMs: at('2025-01-06T00:30:00Z') });
  });

  it('next window from inside a window is the next week\'s occurrence', function () {
    assert.equal(nextWindowStartingAfter(wrap, at('2025-01-06T00:00:00Z')).startMs, at('2025-01-12T23:30:00Z'));
  });

  it('next window across a year end and a leap day', function () {
    assert.equal(nextWindowStartingAfter('sat:12:00-sat:13:00', at('2024-12-29T00:00:00Z')).startMs, at('2025-01-04T12:00:00Z'));
    assert.equal(nextWindowStartingAfter('thu:01:00-thu:02:00', at('2024-02-28T00:00:00Z')).startMs, at('2024-02-29T01:00:00Z'));
  });

  it('works before 1970 (negative epoch milliseconds)', function () {
    assert.equal(nextWindowStartingAfter('mon:00:00-mon:00:30', at('1969-12-31T00:00:00Z')).startMs, at('1970-01-05T00:00:00Z'));
    assert.equal(nextWindowStartingAfter('wed:10:00-wed:11:00', at('1969-12-20T00:00:00Z')).startMs, at('1969-12-24T10:00:00Z'));
  });

  it('rejects an instant that is not a finite number', function () {
    assert.throws(() => nextWindowStartingAfter(wrap, Number.NaN), RangeError);
    assert.throws(() => windowContaining(wrap, Number.POSITIVE_INFINITY), RangeError);
  });

  it('toIso formats epoch milliseconds', function () {
    assert.equal(toIso(at('2025-01-06T00:30:00Z')), '2025-01-06T00:30:00.000Z');
  });
});

describe('maintenance window: properties over generated windows and instants', function () {
  const CASES = 3000;

  it('nextWindowStartingAfter is strictly after, an occurrence, and the first one', function () {
    const random = prng(42);
    for (let i = 0; i < CASES; i++) {
      const g = generateWindow(random);
      const t = generateInstant(random, g);
      const next = nextWindowStartingAfter(g.text, t);
      const context = `${g.text} after ${toIso(t)} -> ${toIso(next.startMs)}`;
      assert.ok(next.startMs > t, `${context}: strictly after`);
      assertIsOccurrence(next, g, context);
      // Occurrences are exactly one week apart, so the one before must not be after t.
      assert.ok(next.startMs - WEEK <= t, `${context}: an earlier occurrence lies after the instant`);
    }
  });

  it('nextWindowStartingAfter agrees with a minute-by-minute scan', function () {
    const random = prng(7);
    for (let i = 0; i < 150; i++) {
      const g = generateWindow(random);
      const t = generateInstant(random, g);
      let scan = Math.floor(t / MINUTE) * MINUTE;
      while (minuteOfWeekByCalendar(scan) !== g.start || scan <= t) scan += MINUTE;
      assert.equal(nextWindowStartingAfter(g.text, t).startMs, scan, `${g.text} after ${toIso(t)}`);
    }
  });

  it('windowContaining returns the occurrence holding the instant, and only when there is one', function () {
    const random = prng(99);
    let inside = 0;
    for (let i = 0; i < CASES; i++) {
      const g = generateWindow(random);
      const t = generateInstant(random, g);
      const found = windowContaining(parseMaintenanceWindow(g.text), t);
      // Independent oracle: how far into the window's weekly cycle is t?
      const sinceStartMs = (((minuteOfWeekByCalendar(t) - g.start + 10080) % 10080) * MINUTE) + (((t % MINUTE) + MINUTE) % MINUTE);
      const expectedInside = sinceStartMs < g.duration * MINUTE;
      const context = `${g.text} at ${toIso(t)}`;
      assert.equal(found !== undefined, expectedInside, context);
      if (found) {
        inside++;
        assertIsOccurrence(found, g, context);
        assert.ok(found.startMs <= t && t < found.endMs, `${context}: contains the instant`);
        assert.equal(found.startMs, t - sinceStartMs, `${context}: the occurrence that started most recently`);
      }
    }
    assert.ok(inside > CASES / 10, `the generator should put plenty of instants inside windows (got ${inside})`);
  });

  it('firstWindowAtLeast respects the lead, avoids blackouts and lists every occurrence it skipped', function () {
    const random = prng(2024);
    let skippedTotal = 0;
    for (let i = 0; i < CASES; i++) {
      const g = generateWindow(random);
      const from = generateInstant(random, g);
      const lead = random() < 0.2 ? 0 : int(random, 1, 30 * DAY);
      const blackouts: Blackout[] = [];
      for (let b = int(random, 0, 4); b > 0; b--) {
        const fromMs = from + int(random, -7 * DAY, 60 * DAY);
        blackouts.push({ fromMs, toMs: fromMs + int(random, 1, 21 * DAY), reason: random() < 0.5 ? `freeze ${b}` : undefined });
      }
      const context = `${g.text} from ${toIso(from)} lead ${lead} blackouts ${JSON.stringify(blackouts)}`;
      const { window, skipped } = firstWindowAtLeast(g.text, from, lead, blackouts);
      const overlapping = (o: Occurrence) => blackouts.filter((b) => o.startMs < b.toMs && b.fromMs < o.endMs);

      assertIsOccurrence(window, g, context);
      assert.ok(window.startMs >= from + lead, `${context}: respects the lead`);
      assert.deepEqual(overlapping(window), [], `${context}: chosen window overlaps a blackout`);
      // Every occurrence between the earliest allowed start and the chosen one was skipped for a blackout, in order.
      const expectedSkipped: Occurrence[] = [];
      for (let s = window.startMs - WEEK; s >= from + lead; s -= WEEK) expectedSkipped.unshift({ startMs: s, endMs: s + g.duration * MINUTE });
      assert.deepEqual(skipped.map((x) => x.window), expectedSkipped, `${context}: skipped list`);
      for (const s of skipped) {
        const hits = overlapping(s.window);
        assert.ok(hits.length > 0, `${context}: skipped ${toIso(s.window.startMs)} without a blackout`);
        for (const hit of hits) assert.ok(s.reason.includes(toIso(hit.fromMs)) && (!hit.reason || s.reason.includes(hit.reason)), s.reason);
      }
      skippedTotal += skipped.length;
    }
    assert.ok(skippedTotal > CASES / 10, `the generator should produce blackouts that matter (skipped ${skippedTotal})`);
  });

  it('nextWindowAvoidingBlackouts is strictly after the instant and otherwise like firstWindowAtLeast with no lead', function () {
    const random = prng(5);
    for (let i = 0; i < CASES; i++) {
      const g = generateWindow(random);
      const t = generateInstant(random, g);
      const fromMs = t + int(random, -DAY, 14 * DAY);
      const blackouts: Blackout[] = random() < 0.7 ? [{ fromMs, toMs: fromMs + int(random, 1, 20 * DAY) }] : [];
      const result = nextWindowAvoidingBlackouts(g.text, t, blackouts);
      const context = `${g.text} after ${toIso(t)}`;
      assert.ok(result.window.startMs > t, context);
      assertIsOccurrence(result.window, g, context);
      const reference = firstWindowAtLeast(g.text, nextWindowStartingAfter(g.text, t).startMs, 0, blackouts);
      assert.deepEqual(result, reference, context);
    }
  });
});

describe('maintenance window: choosing the production window', function () {
  const window: WeeklyWindow = parseMaintenanceWindow('wed:02:00-wed:02:30');
  const now = at('2025-01-06T10:00:00Z'); // Monday

  it('picks the first occurrence at least 14 days ahead', function () {
    const { window: chosen, skipped } = firstWindowAtLeast(window, now, 14 * DAY);
    assert.equal(toIso(chosen.startMs), '2025-01-22T02:00:00.000Z');
    assert.deepEqual(skipped, []);
  });

  it('an occurrence exactly at the lead counts (at least, not strictly after)', function () {
    const { window: chosen } = firstWindowAtLeast(window, at('2025-01-08T02:00:00Z') - 14 * DAY, 14 * DAY);
    assert.equal(toIso(chosen.startMs), '2025-01-08T02:00:00.000Z');
  });

  it('skips occurrences in a freeze and says why', function () {
    const freeze: Blackout = { fromMs: at('2025-01-20T00:00:00Z'), toMs: at('2025-02-03T00:00:00Z'), reason: 'end-of-month billing' };
    const { window: chosen, skipped } = firstWindowAtLeast(window, now, 14 * DAY, [freeze]);
    assert.equal(toIso(chosen.startMs), '2025-02-05T02:00:00.000Z');
    assert.deepEqual(skipped.map((s) => toIso(s.window.startMs)), ['2025-01-22T02:00:00.000Z', '2025-01-29T02:00:00.000Z']);
    assert.match(skipped[0].reason, /end-of-month billing/);
    assert.match(skipped[0].reason, /2025-01-20T00:00:00.000Z/);
  });

  it('a blackout ending exactly when the window starts does not block it', function () {
    const { window: chosen, skipped } = firstWindowAtLeast(window, now, 14 * DAY, [{ fromMs: at('2025-01-21T00:00:00Z'), toMs: at('2025-01-22T02:00:00Z') }]);
    assert.equal(toIso(chosen.startMs), '2025-01-22T02:00:00.000Z');
    assert.deepEqual(skipped, []);
  });

  it('a blackout overlapping only the last minute of a window blocks it', function () {
    const { skipped } = firstWindowAtLeast(window, now, 14 * DAY, [{ fromMs: at('2025-01-22T02:29:00Z'), toMs: at('2025-01-22T05:00:00Z') }]);
    assert.equal(skipped.length, 1);
  });

  it(`gives up after ${MAX_WEEKS_SEARCHED} weeks of blackouts with an error that says what to change`, function () {
    const forever: Blackout = { fromMs: now, toMs: now + 3 * 365 * DAY, reason: 'forever' };
    assert.throws(() => firstWindowAtLeast(window, now, 0, [forever]), (error: Error) => {
      assert.ok(error instanceof NoWindowAvailableError);
      assert.match(error.message, /wed:02:00-wed:02:30/);
      assert.match(error.message, /104 weeks/);
      assert.match(error.message, /blackouts/);
      return true;
    });
    // A blackout that ends within the horizon is fine.
    const almost: Blackout = { fromMs: now, toMs: now + (MAX_WEEKS_SEARCHED - 2) * WEEK };
    const { skipped } = firstWindowAtLeast(window, now, 0, [almost]);
    assert.ok(skipped.length >= MAX_WEEKS_SEARCHED - 3);
  });

  it('refuses a negative lead', function () {
    assert.throws(() => firstWindowAtLeast(window, now, -1), RangeError);
  });
});
