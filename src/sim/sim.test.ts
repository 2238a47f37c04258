// The simulator against the V3 report's table (DeepSeek's DualPipe README):
//
//   | Method   | Bubble               | Parameter | Activation |
//   | 1F1B     | (PP−1)(F+B)          | 1×        | PP         |
//   | ZB1P     | (PP−1)(F+B−2W)       | 1×        | PP         |
//   | DualPipe | (PP/2−1)(F&B+B−3W)   | 2×        | PP+1       |
//
// F: forward of one stage for one micro-batch; B: its full backward; W: the weight-gradient part
// of B; F&B: an overlapped forward + backward pair. Bubble = makespan − compute time of a rank
// (the largest over ranks). Activations: micro-batches whose activations a rank holds at once
// (from F until the end of the full B, or of the W when the backward is split), the largest over
// ranks. Parameter copies: distinct stages whose layers a rank holds.
//
// Assumptions under which the simulated bubble equals the formula EXACTLY (float tolerance):
//   all:      communication time 0 (so overlapping it or not changes nothing);
//   1F1B:     none beyond that (any F, B > 0; any number of micro-batches);
//   ZB1P:     micro-batches ≥ PP, W ≤ F and W ≤ B − W. (Rank 0 must idle (PP−1)(B−W) waiting for
//             its first gradient, and the last rank (PP−1)·F waiting for its first input; the
//             formula's total (PP−1)(F+B−2W) covers both only when W ≤ F and W ≤ B−W.)
//   DualPipe: PP even, micro-batches even and ≥ 2·PP (half from each end, ≥ PP per direction:
//             DualPipe's own requirement), F = B − W (the forward as long as the input-gradient
//             backward, as in the README's figure where every cell has the same width), W ≤ F,
//             and max(F, B) ≤ F&B ≤ F + B. With F ≠ B − W the simulated bubble moves off the
//             formula: below it when F < B − W, above it when F > B − W.
// The random times below are drawn inside those conditions; outside them (and with communication
// time > 0, overlapped or not) the tests check the dependency checker and monotonicity instead.

import { describe, expect, it } from 'vitest';
import {
  buildPlan,
  checkTimeline,
  compareSchedules,
  formula,
  formulaAssumptions,
  simulate,
  stats,
  type ScheduleName,
  type Times,
} from './index';

/** mulberry32: a small seeded generator, so failures reproduce. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PPS = [4, 8, 16];
const DRAWS = 6;
const close = (a: number, b: number) => Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b));

/** Micro-batch counts from 2·PP to 20 (for PP = 16, where 2·PP > 20: just 2·PP). */
function microBatchCounts(pp: number, evenOnly: boolean): number[] {
  const out: number[] = [];
  for (let m = 2 * pp; m <= Math.max(20, 2 * pp); m++) if (!evenOnly || m % 2 === 0) out.push(m);
  return out;
}

/** Random times inside each formula's assumptions (comm = 0). */
function drawTimes(schedule: ScheduleName, r: () => number): Times {
  const u = (lo: number, hi: number) => lo + (hi - lo) * r();
  const F = u(0.1, 3);
  if (schedule === '1f1b') {
    const B = u(0.1, 3);
    return { F, B, W: u(0, B * 0.99), FB: F + B, comm: 0, overlapComm: r() < 0.5 };
  }
  if (schedule === 'zb1p') {
    const b = u(0.1, 3); // input-gradient half
    const W = u(0, Math.min(F, b));
    return { F, B: b + W, W, FB: F + b + W, comm: 0, overlapComm: r() < 0.5 };
  }
  const W = u(0, F);
  const B = F + W; // F = B − W
  // Half the draws with no overlap gain (F&B = F+B), half anywhere in [max(F,B), F+B].
  const FB = r() < 0.5 ? F + B : u(Math.max(F, B), F + B);
  return { F, B, W, FB, comm: 0, overlapComm: r() < 0.5 };
}

describe.each(['1f1b', 'zb1p', 'dualpipe'] as ScheduleName[])(
  '%s matches the table where its assumptions hold',
  (schedule) => {
    for (const pp of PPS) {
      it(`PP=${pp}, micro-batches ${microBatchCounts(pp, schedule === 'dualpipe').join(',')}, ${DRAWS} random time draws each`, () => {
        const r = rng(pp * 1000 + schedule.length);
        for (const m of microBatchCounts(pp, schedule === 'dualpipe')) {
          for (let k = 0; k < DRAWS; k++) {
            const t = drawTimes(schedule, r);
            const where = `${schedule} PP=${pp} M=${m} ${JSON.stringify(t)}`;
            expect(t.W, where).toBeLessThan(t.B);
            expect(formulaAssumptions(schedule, pp, m, t), where).toEqual([]);
            const tl = simulate(buildPlan(schedule, pp, m), t);
            expect(checkTimeline(tl), where).toEqual([]);
            const s = stats(tl);
            const f = formula(schedule, pp, t);
            if (!close(s.bubble, f.bubble)) expect.fail(`${where}: bubble ${s.bubble} ≠ formula ${f.bubble}`);
            // No rank idles more than the formula; with F&B = F+B every rank does the same work, so
            // every rank's bubble is the formula.
            for (const rk of s.ranks) {
              expect(rk.bubble, where).toBeLessThanOrEqual(f.bubble + 1e-9 * Math.max(1, f.bubble));
              if (t.FB === t.F + t.B && !close(rk.bubble, f.bubble))
                expect.fail(`${where}: a rank's bubble ${rk.bubble} ≠ ${f.bubble}`);
            }
            expect(s.peakActivations, where).toBe(f.activations);
            expect(s.parameterCopies, where).toBe(f.parameterCopies);
            expect(s.ranks.every((rk) => rk.parameterCopies === f.parameterCopies)).toBe(true);
            // Makespan = every rank's compute + the bubble of the busiest.
            expect(s.total).toBeCloseTo(Math.min(...s.ranks.map((rk) => rk.busy)) + s.bubble, 9);
          }
        }
      });
    }
  },
);

describe('fewer micro-batches', () => {
  it('1F1B matches for any micro-batch count from 1, ZB1P from PP (activations then min(M, PP))', () => {
    const r = rng(11);
    for (const pp of PPS)
      for (const schedule of ['1f1b', 'zb1p'] as ScheduleName[])
        for (let m = schedule === '1f1b' ? 1 : pp; m < 2 * pp; m++) {
          const t = drawTimes(schedule, r);
          const where = `${schedule} PP=${pp} M=${m} ${JSON.stringify(t)}`;
          const tl = simulate(buildPlan(schedule, pp, m), t);
          expect(checkTimeline(tl), where).toEqual([]);
          const s = stats(tl);
          if (!close(s.bubble, formula(schedule, pp, t).bubble)) expect.fail(`${where}: bubble ${s.bubble} ≠ formula`);
          expect(s.peakActivations, where).toBe(Math.min(m, pp));
        }
  });
});

describe('outside the assumptions', () => {
  it('random F, B, W (W < B) and F&B: every timeline passes the checker; 1F1B still matches; memory and parameters still match the table', () => {
    const r = rng(42);
    for (const pp of PPS)
      for (const m of microBatchCounts(pp, true))
        for (let k = 0; k < 3; k++) {
          const F = 0.1 + 3 * r();
          const B = 0.1 + 3 * r();
          const t: Times = {
            F,
            B,
            W: B * 0.99 * r(),
            FB: Math.max(F, B) + Math.min(F, B) * r(),
            comm: 0,
            overlapComm: true,
          };
          for (const res of compareSchedules(pp, m, t)) {
            const where = `${res.schedule} PP=${pp} M=${m} ${JSON.stringify(t)}`;
            expect(res.problem, where).toBeNull();
            expect(res.violations, where).toEqual([]);
            expect(res.stats!.peakActivations, where).toBe(res.formula.activations);
            expect(res.stats!.parameterCopies, where).toBe(res.formula.parameterCopies);
            if (res.schedule === '1f1b') expect(close(res.stats!.bubble, res.formula.bubble), where).toBe(true);
          }
        }
  });

  it('DualPipe with F ≠ B−W: the bubble is below the formula when F < B−W and above it when F > B−W', () => {
    const r = rng(7);
    for (const pp of PPS)
      for (let k = 0; k < 12; k++) {
        const m = 2 * pp + 2 * Math.floor(4 * r());
        const F = 0.2 + 2 * r();
        const b = k % 2 === 0 ? F * (0.3 + 0.6 * r()) : F * (1.1 + r());
        const W = Math.min(F, b) * r();
        const t: Times = { F, B: b + W, W, FB: F + b + W, comm: 0, overlapComm: true };
        const res = compareSchedules(pp, m, t)[2];
        expect(res.violations).toEqual([]);
        expect(res.unmet).toContain('F = B−W (forward as long as the input-gradient backward)');
        if (F > b) expect(res.stats!.bubble).toBeGreaterThan(res.formula.bubble);
        else expect(res.stats!.bubble).toBeLessThan(res.formula.bubble);
      }
  });

  it('communication time: checker passes, the makespan never shrinks as comm grows, and blocking sends never beat overlapped ones', () => {
    const base: Omit<Times, 'comm' | 'overlapComm'> = { F: 1, B: 2, W: 0.8, FB: 2.6 };
    for (const pp of [4, 8])
      for (const schedule of ['1f1b', 'zb1p', 'dualpipe'] as ScheduleName[]) {
        const m = 2 * pp + 4;
        const plan = buildPlan(schedule, pp, m);
        let prev = { true: 0, false: 0 };
        for (const comm of [0, 0.05, 0.1, 0.3, 0.7, 1.5]) {
          const totals = { true: 0, false: 0 };
          for (const overlapComm of [true, false]) {
            const tl = simulate(plan, { ...base, comm, overlapComm });
            expect(checkTimeline(tl), `${schedule} PP=${pp} comm=${comm} overlap=${overlapComm}`).toEqual([]);
            totals[`${overlapComm}`] = tl.total;
            expect(tl.total).toBeGreaterThanOrEqual(prev[`${overlapComm}`] - 1e-9);
          }
          expect(totals.false).toBeGreaterThanOrEqual(totals.true - 1e-9);
          if (comm === 0) expect(totals.false).toBe(totals.true);
          prev = totals;
        }
      }
  });

  it('the makespan never shrinks when an op gets slower', () => {
    const t: Times = { F: 1, B: 2, W: 0.5, FB: 2.5, comm: 0.1, overlapComm: false };
    for (const schedule of ['1f1b', 'zb1p', 'dualpipe'] as ScheduleName[]) {
      const plan = buildPlan(schedule, 8, 20);
      const t0 = simulate(plan, t).total;
      for (const k of ['F', 'B', 'FB'] as const)
        expect(simulate(plan, { ...t, [k]: t[k] * 1.3 }).total).toBeGreaterThanOrEqual(t0);
    }
  });
});

describe('schedule shapes follow from the rules', () => {
  it('every rank runs each of its micro-batches once forward and once backward; DualPipe splits them evenly between the two ends', () => {
    for (const schedule of ['1f1b', 'zb1p', 'dualpipe'] as ScheduleName[]) {
      const plan = buildPlan(schedule, 8, 20);
      for (const order of plan.orders) {
        const fwd = order.filter((o) => o.kind === 'F' || o.kind === 'FB').length;
        const bwd = order.filter((o) => o.kind === 'B' || o.kind === 'FB').length;
        expect(fwd).toBe(20);
        expect(bwd).toBe(20);
        if (schedule === 'dualpipe')
          for (const d of [0, 1])
            expect(order.filter((o) => (o.kind === 'F' || o.kind === 'FB') && o.fwd.dir === d).length).toBe(10);
      }
    }
  });

  it('refuses sizes a schedule cannot run, with the reason', () => {
    expect(() => buildPlan('dualpipe', 8, 14)).toThrow(/2·PP = 16/);
    expect(() => buildPlan('dualpipe', 8, 21)).toThrow(/even number of micro-batches/);
    expect(() => buildPlan('dualpipe', 6, 20)).not.toThrow();
    expect(() => buildPlan('1f1b', 8, 3)).not.toThrow();
    expect(() => simulate(buildPlan('zb1p', 4, 8), { F: 1, B: 1, W: 1, FB: 2, comm: 0, overlapComm: true })).toThrow(
      /W must be < B/,
    );
  });

  it('PP=8, 20 micro-batches, F=1 B=2 W=1 F&B=3: the figures of docs/pipelines.md', () => {
    const res = compareSchedules(8, 20, { F: 1, B: 2, W: 1, FB: 3, comm: 0, overlapComm: true });
    const row = (i: number) => [
      res[i].stats!.total,
      res[i].stats!.bubble,
      res[i].formula.bubble,
      res[i].stats!.peakActivations,
      res[i].stats!.parameterCopies,
    ];
    expect(row(0)).toEqual([81, 21, 21, 8, 1]);
    expect(row(1)).toEqual([67, 7, 7, 8, 1]);
    expect(row(2)).toEqual([66, 6, 6, 9, 2]);
  });
});
