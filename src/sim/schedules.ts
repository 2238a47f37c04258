// The three schedules, each built from its rules as one op order per rank. No timing here: the
// simulator (simulate.ts) starts every op as soon as its rank is free and its inputs have
// arrived, so the shape of the Gantt chart (warm-up ramps, bubbles, cool-down) follows from
// these orders and the dependencies alone.

import type { Chunk, Dir, Op, Plan, ScheduleName } from './types';
import { stageOn } from './types';

/** Why a schedule cannot run with these sizes, or null when it can. */
export function planProblem(schedule: ScheduleName, pp: number, microBatches: number): string | null {
  if (!Number.isInteger(pp) || pp < 2) return 'needs at least 2 ranks';
  if (!Number.isInteger(microBatches) || microBatches < 1) return 'needs at least 1 micro-batch';
  if (schedule === 'dualpipe') {
    if (pp % 2 !== 0) return 'DualPipe needs an even number of ranks';
    if (microBatches % 2 !== 0) return 'DualPipe needs an even number of micro-batches (half enter from each end)';
    if (microBatches < 2 * pp) return `DualPipe needs at least 2·PP = ${2 * pp} micro-batches (PP per direction)`;
  }
  return null;
}

export function buildPlan(schedule: ScheduleName, pp: number, microBatches: number): Plan {
  const problem = planProblem(schedule, pp, microBatches);
  if (problem) throw new Error(`${schedule}: ${problem}`);
  switch (schedule) {
    case '1f1b':
      return { schedule, pp, microBatches, dirs: 1, orders: range(pp).map((r) => oneFOneB(pp, microBatches, r)) };
    case 'zb1p':
      return { schedule, pp, microBatches, dirs: 1, orders: range(pp).map((r) => zb1p(pp, microBatches, r)) };
    case 'dualpipe':
      return { schedule, pp, microBatches, dirs: 2, orders: range(pp).map((r) => dualPipe(pp, microBatches, r)) };
  }
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

/**
 * 1F1B on rank r (stage r). Warm-up: PP−1−r forwards, so that when the first gradient comes back
 * from the last stage the rank has a forward queued for every later stage. Steady state: one
 * forward, one (full) backward, in turn. Cool-down: the backwards still owed. At most PP−r
 * micro-batches are ever in flight on rank r (PP on rank 0).
 */
function oneFOneB(pp: number, m: number, r: number): Op[] {
  const c = (mb: number): Chunk => ({ mb, dir: 0, stage: r });
  const warm = Math.min(pp - 1 - r, m);
  const order: Op[] = [];
  let f = 0;
  let b = 0;
  while (f < warm) order.push({ kind: 'F', fwd: c(f++) });
  while (f < m) {
    order.push({ kind: 'F', fwd: c(f++) });
    order.push({ kind: 'B', bwd: c(b++), split: false });
  }
  while (b < m) order.push({ kind: 'B', bwd: c(b++), split: false });
  return order;
}

/**
 * ZB1P (the zero-bubble paper's ZB-H1) on rank r: the forwards and backwards in 1F1B's order, but
 * every backward computes only the input gradient (B − W), which is all the previous stage
 * waits for; the weight gradients (W) are held back to fill what would have been bubbles.
 * Rules: (1) before a forward, run the oldest held W's until at most PP−1 micro-batches are in
 * flight (activations are held from a chunk's F until its W), so memory stays at 1F1B's PP;
 * (2) in the cool-down, follow each backward with the oldest held W; (3) finish the held W's.
 * Rank r ends up holding back r weight gradients in the steady state, the last rank PP−1.
 */
function zb1p(pp: number, m: number, r: number): Op[] {
  const c = (mb: number): Chunk => ({ mb, dir: 0, stage: r });
  const warm = Math.min(pp - 1 - r, m);
  const order: Op[] = [];
  let f = 0;
  let b = 0;
  let w = 0;
  const forward = () => {
    while (f - w >= pp) order.push({ kind: 'W', bwd: c(w++) });
    order.push({ kind: 'F', fwd: c(f++) });
  };
  while (f < warm) forward();
  while (f < m) {
    forward();
    order.push({ kind: 'B', bwd: c(b++), split: true });
  }
  while (b < m) {
    if (w < b) order.push({ kind: 'W', bwd: c(w++) });
    order.push({ kind: 'B', bwd: c(b++), split: true });
  }
  while (w < m) order.push({ kind: 'W', bwd: c(w++) });
  return order;
}

/**
 * DualPipe on rank r. Half the micro-batches enter at rank 0 (direction 0), half at rank PP−1
 * (direction 1). Let h = min(r, PP−1−r) (distance from the nearer end), H = PP/2 and N = the
 * micro-batches per direction. On rank r the "near" direction is the one whose input enters at
 * the nearer end (the rank runs its stage h), the "far" direction the other (stage PP−1−h).
 * The order, phase by phase:
 *   1. 2(H−h−1) forwards of near: fill the pipe until the far direction's first input arrives;
 *   2. h+1 × (F near, F far);
 *   3. H−h−1 × (B far split, its W at once, F far): zero-bubble backward lets the input
 *      gradient leave before the weight gradient is computed;
 *   4. N−PP+h+1 × (F near & B far, F far & B near): the steady state, every op an overlapped
 *      F&B pair; on the two middle ranks the very first pair runs as F then B unpaired, so the
 *      forward's output leaves earlier;
 *   5. H−h−1 × (B far, F far & B near): the near direction has run out of forwards;
 *   6. h+1 × (B far, B near), the last h+1 of these backwards split (their W held back);
 *   7. H−h−1 × (W, B near split);
 *   8. the h+1 held W's.
 * Each direction runs its forwards and its backwards in micro-batch order; held W's go FIFO.
 * Every op count is fixed by the phase lengths: N forwards and N backwards per direction.
 */
function dualPipe(pp: number, m: number, r: number): Op[] {
  const H = pp / 2;
  const N = m / 2;
  const h = Math.min(r, pp - 1 - r);
  const near: Dir = r < H ? 0 : 1;
  const far: Dir = near === 0 ? 1 : 0;
  const middle = h === H - 1;
  const nextF: [number, number] = [0, 0];
  const nextB: [number, number] = [0, 0];
  const held: Chunk[] = [];
  const order: Op[] = [];
  const fchunk = (d: Dir): Chunk => ({ mb: nextF[d]++, dir: d, stage: stageOn(pp, d, r) });
  const bchunk = (d: Dir): Chunk => ({ mb: nextB[d]++, dir: d, stage: stageOn(pp, d, r) });
  const F = (d: Dir) => order.push({ kind: 'F', fwd: fchunk(d) });
  const B = (d: Dir, split: boolean) => {
    const bwd = bchunk(d);
    order.push({ kind: 'B', bwd, split });
    if (split) held.push(bwd);
  };
  const W = () => {
    const bwd = held.shift();
    if (!bwd) throw new Error('dualpipe: no weight gradient held');
    order.push({ kind: 'W', bwd });
  };
  const FB = (fd: Dir, bd: Dir) => order.push({ kind: 'FB', fwd: fchunk(fd), bwd: bchunk(bd) });

  for (let i = 0; i < 2 * (H - h - 1); i++) F(near);
  for (let i = 0; i < h + 1; i++) {
    F(near);
    F(far);
  }
  for (let i = 0; i < H - h - 1; i++) {
    B(far, true);
    W();
    F(far);
  }
  const steady = N - pp + h + 1;
  for (let i = 0; i < steady; i++) {
    if (i === 0 && middle) {
      F(near);
      B(far, false);
    } else FB(near, far);
    FB(far, near);
  }
  for (let i = 0; i < H - h - 1; i++) {
    B(far, false);
    FB(far, near);
  }
  const tail = 2 * (h + 1);
  for (let i = 0; i < tail; i++) B(i % 2 === 0 ? far : near, i >= tail - (h + 1));
  for (let i = 0; i < H - h - 1; i++) {
    W();
    B(near, true);
  }
  while (held.length) W();
  return order;
}
