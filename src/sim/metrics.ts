// Figures of a simulated timeline, and the V3 report's formulas to set beside them.

import type { Chunk, ScheduleName, Segment, Times, Timeline } from './types';
import { chunkKey } from './types';

export interface RankStats {
  /** Time spent computing (F, B, W, F&B). */
  busy: number;
  /** Time blocked sending (unoverlapped communication only). */
  sending: number;
  /** Makespan minus compute: idle time plus time blocked on sends. */
  bubble: number;
  /** Most micro-batch activations held at once (see peakActivations). */
  peakActivations: number;
  /** Distinct stages whose layers (parameters) live on this rank. */
  parameterCopies: number;
}

export interface Stats {
  total: number;
  ranks: RankStats[];
  /** Bubble per rank: the largest over ranks (they are all equal when every rank does the same work). */
  bubble: number;
  peakActivations: number;
  parameterCopies: number;
}

const computeOnly = (s: Segment) => s.kind !== 'S';

/**
 * Activations in micro-batch units on one rank: a chunk's activations are stored from the start
 * of its forward until its backward no longer needs them: the end of its full B, or of its W
 * when the backward is split (the weight gradient reads the stored inputs too). At one instant
 * frees come before allocations (the op that frees has ended before the next one starts), and
 * an F&B pair allocates at its start and frees at its end, so its two chunks overlap.
 */
export function peakActivations(segments: Segment[]): number {
  const events: Array<{ t: number; d: number }> = [];
  const splitB = new Set<string>();
  for (const s of segments) if (s.kind === 'B' && s.split) splitB.add(chunkKey(s.bwd));
  for (const s of segments) {
    if (s.kind === 'F' || s.kind === 'FB') events.push({ t: s.start, d: +1 });
    if ((s.kind === 'B' && !s.split) || s.kind === 'W' || s.kind === 'FB') events.push({ t: s.end, d: -1 });
    if (s.kind === 'FB' && splitB.has(chunkKey(s.bwd))) throw new Error('an F&B pair runs a full backward');
  }
  events.sort((a, b) => a.t - b.t || a.d - b.d);
  let n = 0;
  let peak = 0;
  for (const e of events) {
    n += e.d;
    peak = Math.max(peak, n);
  }
  return peak;
}

export function parameterCopies(segments: Segment[]): number {
  const stages = new Set<number>();
  const add = (c: Chunk) => stages.add(c.stage);
  for (const s of segments) {
    if (s.kind === 'F' || s.kind === 'FB') add(s.fwd);
    if (s.kind === 'B' || s.kind === 'W' || s.kind === 'FB') add(s.bwd);
  }
  return stages.size;
}

export function stats(tl: Timeline): Stats {
  const pp = tl.plan.pp;
  const byRank: Segment[][] = Array.from({ length: pp }, () => []);
  for (const s of tl.segments) byRank[s.rank].push(s);
  const ranks = byRank.map((segs): RankStats => {
    const busy = segs.filter(computeOnly).reduce((a, s) => a + (s.end - s.start), 0);
    const sending = segs.filter((s) => !computeOnly(s)).reduce((a, s) => a + (s.end - s.start), 0);
    return {
      busy,
      sending,
      bubble: tl.total - busy,
      peakActivations: peakActivations(segs),
      parameterCopies: parameterCopies(segs),
    };
  });
  return {
    total: tl.total,
    ranks,
    bubble: Math.max(...ranks.map((r) => r.bubble)),
    peakActivations: Math.max(...ranks.map((r) => r.peakActivations)),
    parameterCopies: Math.max(...ranks.map((r) => r.parameterCopies)),
  };
}

export interface Formula {
  bubble: number;
  bubbleText: string;
  parameterCopies: number;
  activations: number;
  activationsText: string;
}

/** The table of the V3 report (and DeepSeek's DualPipe README). */
export function formula(schedule: ScheduleName, pp: number, t: Pick<Times, 'F' | 'B' | 'W' | 'FB'>): Formula {
  switch (schedule) {
    case '1f1b':
      return {
        bubble: (pp - 1) * (t.F + t.B),
        bubbleText: '(PP−1)(F+B)',
        parameterCopies: 1,
        activations: pp,
        activationsText: 'PP',
      };
    case 'zb1p':
      return {
        bubble: (pp - 1) * (t.F + t.B - 2 * t.W),
        bubbleText: '(PP−1)(F+B−2W)',
        parameterCopies: 1,
        activations: pp,
        activationsText: 'PP',
      };
    case 'dualpipe':
      return {
        bubble: (pp / 2 - 1) * (t.FB + t.B - 3 * t.W),
        bubbleText: '(PP/2−1)(F&B+B−3W)',
        parameterCopies: 2,
        activations: pp + 1,
        activationsText: 'PP+1',
      };
  }
}
