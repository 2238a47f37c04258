// The discrete-event simulator: every rank runs its ops in the plan's order, each op starting as
// soon as (a) its rank has finished the previous op and (b) every input it needs is on the rank:
//   F of stage s       needs the activation from F of stage s−1 (another rank: + comm);
//   B of stage s       needs its own F (same rank) and the gradient from B of stage s+1
//                      (another rank: + comm); the last stage starts from the loss;
//   W                  needs the split B of the same chunk (same rank);
//   F&B                needs both sets and delivers both outputs when the pair ends.
// With ASAP starts and fixed per-rank orders the timeline is unique; processing ranks in any
// order gives the same one. An order that waits on something never produced is a deadlock and
// is reported, never papered over.

import type { Chunk, Op, Plan, Segment, Times, Timeline } from './types';
import { describeOp } from './types';

/** An input produced at `at` (NaN: not yet), available after `delay`; -1 when not produced. */
const ready1 = (at: number, delay: number) => (Number.isNaN(at) ? -1 : at + delay);

/** Duration of one op under these times. */
export function opDuration(op: Op, t: Times): number {
  switch (op.kind) {
    case 'F':
      return t.F;
    case 'B':
      return op.split ? t.B - t.W : t.B;
    case 'W':
      return t.W;
    case 'FB':
      return t.FB;
  }
}

/** Does this op send something to a neighbour when it ends? */
export function opSends(op: Op, pp: number): boolean {
  const fwdSends = (c: Chunk) => c.stage < pp - 1;
  const bwdSends = (c: Chunk) => c.stage > 0;
  switch (op.kind) {
    case 'F':
      return fwdSends(op.fwd);
    case 'B':
      return bwdSends(op.bwd);
    case 'W':
      return false;
    case 'FB':
      return fwdSends(op.fwd) || bwdSends(op.bwd);
  }
}

export function validateTimes(t: Times): string[] {
  const bad: string[] = [];
  for (const k of ['F', 'B', 'W', 'FB', 'comm'] as const)
    if (!Number.isFinite(t[k]) || t[k] < 0) bad.push(`${k} must be a number ≥ 0`);
  if (!(t.F > 0)) bad.push('F must be > 0');
  if (!(t.B > 0)) bad.push('B must be > 0');
  if (!(t.W < t.B)) bad.push('W must be < B (W is part of the full backward)');
  if (!(t.FB > 0)) bad.push('F&B must be > 0');
  return bad;
}

export function simulate(plan: Plan, times: Times): Timeline {
  const bad = validateTimes(times);
  if (bad.length) throw new Error(`bad times: ${bad.join('; ')}`);
  const { pp, orders } = plan;
  // When each output is ready on the rank that produced it, by chunk index (NaN: not yet).
  const perDir = plan.microBatches / plan.dirs;
  const slots = plan.dirs * perDir * pp;
  const idx = (c: Chunk, stage = c.stage) => (c.dir * perDir + c.mb) * pp + stage;
  const fwdDone = new Float64Array(slots).fill(NaN);
  const bwdDone = new Float64Array(slots).fill(NaN); // the input gradient (end of a split or full B)
  const comm = times.comm;

  /** Earliest start allowed by the inputs, or -1 if one has not been produced yet. */
  const fwdReady = (c: Chunk): number => (c.stage === 0 ? 0 : ready1(fwdDone[idx(c, c.stage - 1)], comm));
  const bwdReady = (c: Chunk): number => {
    const own = ready1(fwdDone[idx(c)], 0);
    if (own < 0 || c.stage === pp - 1) return own;
    const grad = ready1(bwdDone[idx(c, c.stage + 1)], comm);
    return grad < 0 ? -1 : Math.max(own, grad);
  };
  const ready = (op: Op): number => {
    switch (op.kind) {
      case 'F':
        return fwdReady(op.fwd);
      case 'B':
        return bwdReady(op.bwd);
      case 'W':
        return ready1(bwdDone[idx(op.bwd)], 0);
      case 'FB': {
        const a = fwdReady(op.fwd);
        const b = bwdReady(op.bwd);
        return a < 0 || b < 0 ? -1 : Math.max(a, b);
      }
    }
  };

  const segments: Segment[] = [];
  const next = orders.map(() => 0);
  const free = orders.map(() => 0);
  let left = orders.reduce((n, o) => n + o.length, 0);
  while (left > 0) {
    let progressed = false;
    for (let r = 0; r < orders.length; r++) {
      while (next[r] < orders[r].length) {
        const op = orders[r][next[r]];
        const at = ready(op);
        if (at < 0) break;
        const start = Math.max(free[r], at);
        const end = start + opDuration(op, times);
        segments.push({ ...op, rank: r, start, end });
        if (op.kind === 'F' || op.kind === 'FB') fwdDone[idx(op.fwd)] = end;
        if (op.kind === 'B' || op.kind === 'FB') bwdDone[idx(op.bwd)] = end;
        free[r] = end;
        // Unoverlapped sends hold the rank; an F&B pair hides its own.
        if (!times.overlapComm && comm > 0 && op.kind !== 'FB' && opSends(op, pp)) {
          segments.push({ kind: 'S', of: op, rank: r, start: end, end: end + comm });
          free[r] = end + comm;
        }
        next[r]++;
        left--;
        progressed = true;
      }
    }
    if (!progressed) {
      const stuck = orders
        .map((o, r) => (next[r] < o.length ? `rank ${r} waits at ${describeOp(o[next[r]])}` : null))
        .filter(Boolean);
      throw new Error(`${plan.schedule}: deadlock — ${stuck.join('; ')}`);
    }
  }
  const total = segments.reduce((m, s) => Math.max(m, s.end), 0);
  return { plan, times, segments, total };
}
