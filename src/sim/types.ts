// Types of the pipeline-schedule simulator.
//
// The model is cut into PP stages (consecutive groups of layers). A micro-batch travels through
// the stages in order for its forward pass and back in reverse order for its backward pass.
// 1F1B and ZB1P place stage s on rank s. DualPipe feeds micro-batches from both ends: direction 0
// enters at rank 0 (stage s on rank s), direction 1 enters at rank PP−1 (stage s on rank PP−1−s),
// so every rank holds the layers of two stages (two parameter copies' worth).

export type ScheduleName = '1f1b' | 'zb1p' | 'dualpipe';
export const SCHEDULES: readonly ScheduleName[] = ['1f1b', 'zb1p', 'dualpipe'];
export const SCHEDULE_LABEL: Record<ScheduleName, string> = { '1f1b': '1F1B', zb1p: 'ZB1P', dualpipe: 'DualPipe' };

/** Direction a micro-batch travels in: 0 enters at rank 0, 1 enters at rank PP−1 (DualPipe only). */
export type Dir = 0 | 1;

/** One micro-batch's work on one stage. */
export interface Chunk {
  /** Micro-batch index within its direction (0-based). */
  mb: number;
  dir: Dir;
  /** Position along the micro-batch's path, 0..PP−1 (also the id of the layers it runs). */
  stage: number;
}

/**
 * One unit of work in a rank's order.
 * - F: forward of `fwd`.
 * - B: backward of `bwd`; `split` = input-gradient part only (its weight gradient is a later W),
 *   otherwise the full backward (input and weight gradients).
 * - W: the weight-gradient part of an earlier split B of `bwd`.
 * - FB: forward of `fwd` and full backward of `bwd` run overlapped as one unit (DualPipe's F&B).
 */
export type Op =
  | { kind: 'F'; fwd: Chunk }
  | { kind: 'B'; bwd: Chunk; split: boolean }
  | { kind: 'W'; bwd: Chunk }
  | { kind: 'FB'; fwd: Chunk; bwd: Chunk };

/** A schedule: the order each rank runs its ops in (timing comes from the simulator). */
export interface Plan {
  schedule: ScheduleName;
  pp: number;
  /** Micro-batches in total (DualPipe: half enter from each end). */
  microBatches: number;
  /** Directions in use (1 for 1F1B/ZB1P, 2 for DualPipe). */
  dirs: 1 | 2;
  orders: Op[][];
}

export interface Times {
  /** Forward of one stage for one micro-batch. */
  F: number;
  /** Full backward (input + weight gradients) of one stage for one micro-batch. */
  B: number;
  /** The weight-gradient part of B (so a split backward is B − W, then W). */
  W: number;
  /** An overlapped forward + full backward pair (DualPipe's F&B). */
  FB: number;
  /** Point-to-point transfer time of one activation or gradient between neighbouring ranks. */
  comm: number;
  /**
   * true: transfers run beside compute (a rank never waits to send).
   * false: a rank is busy for `comm` after every standalone op that sends (a 'send' segment);
   * the sends of an F&B pair stay hidden behind the pair (that is what the pairing is for).
   */
  overlapComm: boolean;
}

/** A span of time on one rank in the simulated timeline. */
export type Segment = (Op | { kind: 'S'; of: Op }) & { rank: number; start: number; end: number };

export interface Timeline {
  plan: Plan;
  times: Times;
  segments: Segment[];
  /** Makespan: the end of the last segment. */
  total: number;
}

export function chunkKey(c: Chunk): string {
  return `${c.dir}:${c.mb}:${c.stage}`;
}

/** Rank that runs stage `stage` of direction `dir`. */
export function rankOf(pp: number, dir: Dir, stage: number): number {
  return dir === 0 ? stage : pp - 1 - stage;
}

/** Stage of direction `dir` that lives on `rank`. */
export function stageOn(pp: number, dir: Dir, rank: number): number {
  return dir === 0 ? rank : pp - 1 - rank;
}

export function describeOp(op: Op | Segment): string {
  const c = (x: Chunk) => `${x.dir ? 'r' : ''}${x.mb}@s${x.stage}`;
  switch (op.kind) {
    case 'F':
      return `F ${c(op.fwd)}`;
    case 'B':
      return `${op.split ? 'B(input)' : 'B'} ${c(op.bwd)}`;
    case 'W':
      return `W ${c(op.bwd)}`;
    case 'FB':
      return `F&B ${c(op.fwd)} + ${c(op.bwd)}`;
    case 'S':
      return `send after ${describeOp(op.of)}`;
  }
}
