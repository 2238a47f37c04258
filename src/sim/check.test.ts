// The dependency checker must catch broken timelines, not just bless good ones.

import { describe, expect, it } from 'vitest';
import {
  buildPlan,
  checkTimeline,
  simulate,
  type Op,
  type Plan,
  type Segment,
  type Timeline,
  type Times,
} from './index';

const T: Times = { F: 1, B: 2, W: 0.7, FB: 2.6, comm: 0.2, overlapComm: true };

function fresh(schedule: Plan['schedule'] = 'dualpipe', times: Times = T): Timeline {
  return simulate(buildPlan(schedule, 4, 8), times);
}

/** A copy of the timeline with segment i replaced. */
function edit(tl: Timeline, pick: (s: Segment) => boolean, change: (s: Segment) => Segment | null): Timeline {
  const i = tl.segments.findIndex(pick);
  if (i < 0) throw new Error('no such segment');
  const segments = tl.segments.slice();
  const next = change(segments[i]);
  if (next) segments[i] = next;
  else segments.splice(i, 1);
  return { ...tl, segments };
}

describe('checkTimeline', () => {
  it('passes the simulated timelines of all three schedules', () => {
    for (const s of ['1f1b', 'zb1p', 'dualpipe'] as const)
      for (const overlapComm of [true, false]) expect(checkTimeline(fresh(s, { ...T, overlapComm }))).toEqual([]);
  });

  it('catches a backward that starts before its gradient arrives', () => {
    const tl = fresh('1f1b');
    // Stage 0's first backward waits for stage 1's: pull it 0.5 earlier (its rank is idle then).
    const broken = edit(
      tl,
      (s) => s.kind === 'B' && s.bwd.stage === 0 && s.bwd.mb === 0,
      (s) => ({ ...s, start: s.start - 0.5, end: s.end - 0.5 }),
    );
    const errs = checkTimeline(broken);
    expect(errs.length).toBeGreaterThan(0);
    expect(errs.join('\n')).toMatch(/B 0@s0 .*starts before the gradient from stage 1/);
  });

  it('catches a forward that ignores the transfer time', () => {
    // Simulated with no communication time, checked as if transfers took 0.2.
    const tl = fresh('zb1p', { ...T, comm: 0 });
    const errs = checkTimeline({ ...tl, times: { ...tl.times, comm: 0.2 } });
    expect(errs.join('\n')).toMatch(/starts before the activation from stage/);
  });

  it('catches a W that runs before its split backward', () => {
    const tl = fresh('zb1p');
    const b = tl.segments.find((s) => s.kind === 'B' && s.bwd.stage === 2 && s.bwd.mb === 3)!;
    const broken = edit(
      tl,
      (s) => s.kind === 'W' && s.bwd.stage === 2 && s.bwd.mb === 3,
      (s) => ({ ...s, start: b.start - 5, end: b.start - 5 + T.W }),
    );
    expect(checkTimeline(broken).join('\n')).toMatch(/W 3@s2.*starts before its input-gradient backward/);
  });

  it('catches a missing W, a chunk on the wrong rank, overlapping work, and a wrong duration', () => {
    const tl = fresh('dualpipe');
    const noW = edit(
      tl,
      (s) => s.kind === 'W',
      () => null,
    );
    expect(checkTimeline(noW).join('\n')).toMatch(/split backward without its W/);

    const moved = edit(
      tl,
      (s) => s.kind === 'F' && s.fwd.stage === 1 && s.fwd.dir === 0,
      (s) => ({ ...s, rank: 2 }),
    );
    expect(checkTimeline(moved).join('\n')).toMatch(/lives on rank 1/);

    const r0 = tl.segments.filter((s) => s.rank === 0).sort((a, b) => a.start - b.start);
    const overlap = edit(
      tl,
      (s) => s === r0[1],
      (s) => ({ ...s, start: r0[0].end - 0.3, end: r0[0].end - 0.3 + (s.end - s.start) }),
    );
    expect(checkTimeline(overlap).join('\n')).toMatch(/overlaps/);

    const longer = edit(
      tl,
      (s) => s.kind === 'FB',
      (s) => ({ ...s, end: s.end + 1 }),
    );
    expect(checkTimeline(longer).join('\n')).toMatch(/expected 2\.600/);
  });

  it('catches a micro-batch that never runs backward, or runs forward twice', () => {
    const tl = fresh('1f1b');
    const dropped = edit(
      tl,
      (s) => s.kind === 'B' && s.bwd.mb === 5 && s.bwd.stage === 3,
      () => null,
    );
    expect(checkTimeline(dropped).join('\n')).toMatch(/micro-batch 5 \(direction 0\) stage 3: no backward/);
    const f = tl.segments.find((s) => s.kind === 'F' && s.rank === 3)!;
    const twice = {
      ...tl,
      segments: [...tl.segments, { ...f, start: tl.total, end: tl.total + T.F }],
      total: tl.total + T.F,
    };
    expect(checkTimeline(twice).join('\n')).toMatch(/second forward of the same chunk/);
  });

  it('the simulator refuses an order that waits on something never produced (deadlock)', () => {
    const plan = buildPlan('1f1b', 4, 8);
    // Rank 3 runs its first backward before the forward it needs.
    const o = plan.orders[3];
    const bad: Op[] = [o[1], o[0], ...o.slice(2)];
    expect(() => simulate({ ...plan, orders: [...plan.orders.slice(0, 3), bad] }, T)).toThrow(
      /deadlock — .*rank 3 waits at B 0@s3/,
    );
  });
});
