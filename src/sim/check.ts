// The dependency checker: validates a timeline from the segments alone, with no knowledge of how
// the simulator or the schedules work. It re-derives what every chunk needs from the model's
// structure (stage s forward after stage s−1's; stage s backward after its own forward and stage
// s+1's backward; W after its split B; transfers between ranks take `comm`) and checks:
//   - every segment lasts what its kind takes, and a rank runs one thing at a time;
//   - every chunk runs on the rank that holds its stage;
//   - every micro-batch's forward and backward run exactly once on every stage, and a W exists
//     exactly for the backwards that were split;
//   - no chunk starts before its inputs exist on its rank.

import { opDuration } from './simulate';
import type { Chunk, Segment, Timeline } from './types';
import { chunkKey, describeOp, rankOf } from './types';

export function checkTimeline(tl: Timeline): string[] {
  const { pp, microBatches, dirs } = tl.plan;
  const { comm } = tl.times;
  const eps = 1e-9 * Math.max(1, tl.total);
  const errors: string[] = [];
  const err = (s: Segment, msg: string) =>
    errors.push(`rank ${s.rank}, ${describeOp(s)} at ${s.start.toFixed(3)}: ${msg}`);

  // --- durations and exclusivity ---
  const byRank = new Map<number, Segment[]>();
  for (const s of tl.segments) {
    if (!(Number.isFinite(s.start) && Number.isFinite(s.end)) || s.start < -eps) err(s, 'bad start/end');
    const want = s.kind === 'S' ? comm : opDuration(s, tl.times);
    if (Math.abs(s.end - s.start - want) > eps)
      err(s, `lasts ${(s.end - s.start).toFixed(3)}, expected ${want.toFixed(3)}`);
    if (s.rank < 0 || s.rank >= pp) err(s, 'no such rank');
    const list = byRank.get(s.rank) ?? [];
    list.push(s);
    byRank.set(s.rank, list);
  }
  for (const list of byRank.values()) {
    list.sort((a, b) => a.start - b.start || a.end - b.end);
    for (let i = 1; i < list.length; i++)
      if (list[i].start < list[i - 1].end - eps) err(list[i], `overlaps ${describeOp(list[i - 1])} on the same rank`);
  }

  // --- placement and completeness ---
  const fwd = new Map<string, Segment>();
  const bwd = new Map<string, Segment>();
  const wgt = new Map<string, Segment>();
  const place = (s: Segment, c: Chunk, map: Map<string, Segment>, what: string) => {
    if (c.dir >= dirs) err(s, `direction ${c.dir} is not used by ${tl.plan.schedule}`);
    if (c.stage < 0 || c.stage >= pp) err(s, `no stage ${c.stage}`);
    else if (rankOf(pp, c.dir, c.stage) !== s.rank)
      err(s, `stage ${c.stage} (direction ${c.dir}) lives on rank ${rankOf(pp, c.dir, c.stage)}`);
    const k = chunkKey(c);
    if (map.has(k)) err(s, `second ${what} of the same chunk`);
    map.set(k, s);
  };
  for (const s of tl.segments) {
    if (s.kind === 'F' || s.kind === 'FB') place(s, s.fwd, fwd, 'forward');
    if (s.kind === 'B' || s.kind === 'FB') place(s, s.bwd, bwd, 'backward');
    if (s.kind === 'W') place(s, s.bwd, wgt, 'weight gradient');
  }
  const perDir = microBatches / dirs;
  for (let d = 0; d < dirs; d++)
    for (let mb = 0; mb < perDir; mb++)
      for (let stage = 0; stage < pp; stage++) {
        const k = chunkKey({ mb, dir: d as 0 | 1, stage });
        const name = `micro-batch ${mb} (direction ${d}) stage ${stage}`;
        if (!fwd.has(k)) errors.push(`${name}: no forward`);
        const b = bwd.get(k);
        if (!b) errors.push(`${name}: no backward`);
        const split = b?.kind === 'B' && b.split;
        if (split && !wgt.has(k)) errors.push(`${name}: split backward without its W`);
        if (b && !split && wgt.has(k)) errors.push(`${name}: W after a full backward`);
      }
  const expected = dirs * perDir * pp;
  if (fwd.size > expected || bwd.size > expected)
    errors.push(`more chunks than ${microBatches} micro-batches × ${pp} stages`);

  // --- dependencies ---
  const after = (s: Segment, dep: Segment | undefined, delay: number, what: string) => {
    if (!dep) return err(s, `${what} never happens`);
    if (s.start < dep.end + delay - eps)
      err(s, `starts before ${what} is on its rank (${(dep.end + delay).toFixed(3)})`);
  };
  const needsForward = (s: Segment, c: Chunk) => {
    if (c.stage > 0)
      after(s, fwd.get(chunkKey({ ...c, stage: c.stage - 1 })), comm, `the activation from stage ${c.stage - 1}`);
  };
  const needsBackward = (s: Segment, c: Chunk) => {
    after(s, fwd.get(chunkKey(c)), 0, 'its own forward');
    if (c.stage < pp - 1)
      after(s, bwd.get(chunkKey({ ...c, stage: c.stage + 1 })), comm, `the gradient from stage ${c.stage + 1}`);
  };
  for (const s of tl.segments) {
    if (s.kind === 'F' || s.kind === 'FB') needsForward(s, s.fwd);
    if (s.kind === 'B' || s.kind === 'FB') needsBackward(s, s.bwd);
    if (s.kind === 'W') {
      const b = bwd.get(chunkKey(s.bwd));
      if (b && !(b.kind === 'B' && b.split)) err(s, 'its backward was not split');
      after(s, b, 0, 'its input-gradient backward');
    }
  }
  const end = tl.segments.reduce((m, s) => Math.max(m, s.end), 0);
  if (Math.abs(end - tl.total) > eps) errors.push(`total ${tl.total} is not the last segment's end ${end}`);
  return errors;
}
