// Learning-rate schedules. t is the 1-based step, total the run's step count.
//  cosine: linear warmup to lr, then a half cosine down to min_lr_ratio·lr at the last step.
//  wsd (warmup-stable-decay): warmup, hold lr, then decay linearly to min_lr_ratio·lr over the
//  last decay_fraction of the steps.

import type { RunConfig } from '../config';

export function learningRate(o: RunConfig['optim'], t: number, total: number): number {
  const warm = Math.min(o.warmup_steps, total);
  if (t <= warm && warm > 0) return (o.lr * t) / warm;
  const minLr = o.lr * o.min_lr_ratio;
  if (o.schedule === 'cosine') {
    const span = Math.max(1, total - warm);
    const progress = Math.min(1, (t - warm) / span);
    return minLr + (o.lr - minLr) * 0.5 * (1 + Math.cos(Math.PI * progress));
  }
  const decaySteps = Math.round(total * o.decay_fraction);
  const decayStart = total - decaySteps;
  if (t <= decayStart || decaySteps === 0) return o.lr;
  const progress = Math.min(1, (t - decayStart) / decaySteps);
  return o.lr + (minLr - o.lr) * progress;
}
