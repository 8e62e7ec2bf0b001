/**
 * The demo's progress: each change of what a run waits for is printed once; the countdown is one line rewritten
 * in place on a terminal, and one line a minute in a log (not a new line every few seconds).
 */
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import type { WaitingFor } from '../../src/api';
import { COUNTDOWN_LOG_EVERY_MS, ProgressPrinter, terminalLine } from '../../dev/demo';

const T0 = Date.parse('2026-12-06T10:00:00Z');
const window: WaitingFor = { kind: 'window', description: 'preview window', until: '2026-12-06T10:10:00Z' } as WaitingFor;
const approval: WaitingFor = { kind: 'approval', description: 'approval of production' } as WaitingFor;

/** Shows the same wait every second for `seconds`, then `next`; returns what was printed and drawn. */
function run(live: boolean, seconds: number, next?: WaitingFor) {
  let now = T0;
  const printed: string[] = [];
  const drawn: (string | undefined)[] = [];
  const p = new ProgressPrinter((l) => printed.push(l), live ? (l) => drawn.push(l) : undefined, () => now);
  for (let s = 0; s <= seconds; s++, now += 1000) p.show([], window);
  p.show([], next);
  return { printed, drawn };
}

describe('demo progress', function () {
  it('in a log: the wait once, then its countdown once a minute', function () {
    const { printed } = run(false, 185, approval);
    const countdowns = printed.filter((l) => l.includes('preview window'));
    assert.equal(countdowns.length, 1 + Math.floor(185_000 / COUNTDOWN_LOG_EVERY_MS), printed.join('\n'));
    assert.match(countdowns[0], /in 10m/);
    assert.match(countdowns[1], /in 9m/);
    assert.match(printed.at(-1)!, /approval of production/, 'the next wait is printed at once');
  });

  it('on a terminal: the wait once, its countdown rewritten in place every second, cleared when the wait ends', function () {
    const { printed, drawn } = run(true, 30, approval);
    assert.equal(printed.filter((l) => l.includes('preview window')).length, 1);
    assert.equal(drawn.filter((l) => l?.includes('preview window')).length, 30);
    assert.match(drawn.filter(Boolean).at(-1)!, /in 9m 30s/);
    assert.equal(drawn.at(-1), undefined, 'cleared when the wait changed');
  });

  it('a terminal line: printed lines go above the live line, which is redrawn after them', function () {
    const stream = Object.assign(new PassThrough(), { isTTY: true, columns: 80 }) as unknown as NodeJS.WriteStream;
    let written = '';
    (stream as unknown as PassThrough).on('data', (c: Buffer) => (written += c.toString()));
    const t = terminalLine(stream)!;
    t.live('⏳ waiting, in 5m');
    t.print('12:00 preview flag-on');
    t.live('⏳ waiting, in 4m 59s');
    assert.equal(written, '\r\x1b[2K⏳ waiting, in 5m' + '\r\x1b[2K12:00 preview flag-on\n' + '\r\x1b[2K⏳ waiting, in 5m' + '\r\x1b[2K⏳ waiting, in 4m 59s');
    assert.equal(terminalLine(Object.assign(new PassThrough(), { isTTY: false }) as unknown as NodeJS.WriteStream), undefined, 'no terminal: lines only');
  });
});
