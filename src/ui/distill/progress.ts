// The distillation experiment's progress in words, counted on completion: the lab's progress
// lines name the step a stage has *submitted*, and a stage that logs every few steps can leave the
// previous stage's line standing. The points measured so far say which stages have finished, so a
// line from a finished stage gives way to the stage that follows it.

import type { DistillPoint } from '../../lab/api';

const STAGES = ['teacher', 'student pretrain', 'rl arm', 'distill arm'] as const;
const LABEL = ['teacher (GRPO)', 'student base (pretraining)', 'direct GRPO arm', 'distilled (SFT) arm'];

/** Index in STAGES of the stage a lab progress line is about (-1: none). */
function lineStage(line: string): number {
  return STAGES.findIndex((s) => line.startsWith(s));
}

/** Stages finished by these points: teacher → 0, base → 1, the RL arm's last step → 2, distill → 3. */
export function finishedStage(points: readonly DistillPoint[], rlSteps: number): number {
  let done = -1;
  for (const p of points) {
    const k = p.arm === 'teacher' ? 0 : p.arm === 'base' ? 1 : p.arm === 'rl' && p.step >= rlSteps ? 2 : -1;
    done = Math.max(done, k);
  }
  return done;
}

/** What the view says while it runs: the finished stages and what runs now. */
export function distillProgressText(line: string, points: readonly DistillPoint[], rlSteps: number): string {
  const done = finishedStage(points, rlSteps);
  const finished = done >= 0 ? `finished: ${LABEL.slice(0, done + 1).join(', ')}` : '';
  const at = lineStage(line);
  let now = line;
  if (at >= 0 && at <= done) now = done + 1 < LABEL.length ? `now: ${LABEL[done + 1]}…` : '';
  else if (line) now = `now: ${line}`;
  return [finished, now].filter(Boolean).join(' · ');
}
