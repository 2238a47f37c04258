// The summary line of a multi-seed run (--seeds A,B,…): one seed proves nothing, so train, grpo
// and distill end with the mean over seeds and its spread (run/seeds.ts), plus each seed's figures.

import { accuracySe, liftSummary, spread } from '../run/seeds';
import { fmt } from './args';

/** Mean and sample sd of the values that exist; null for both when none does. */
function meanSd(xs: readonly (number | null)[]): { mean: number | null; sd: number | null } {
  const have = xs.filter((x): x is number => x !== null);
  if (!have.length) return { mean: null, sd: null };
  const s = spread(have);
  return { mean: s.mean, sd: s.sd };
}

const pm = (m: { mean: number | null; sd: number | null }, digits = 4) =>
  m.mean === null ? '-' : `${fmt(m.mean, digits)} ± ${fmt(m.sd, digits)}`;

export interface TrainSeedResult {
  seed: number;
  final_loss: number;
  final_val_loss: number | null;
}

/** train --seeds: final loss and validation loss, mean ± sd over seeds, and each seed's. */
export function trainSummary(per: readonly TrainSeedResult[]) {
  const loss = meanSd(per.map((p) => p.final_loss));
  const val = meanSd(per.map((p) => p.final_val_loss));
  return {
    done: true,
    seeds: per.map((p) => p.seed),
    final_loss_mean: loss.mean,
    final_loss_sd: loss.sd,
    final_val_loss_mean: val.mean,
    final_val_loss_sd: val.sd,
    per_seed: per.map((p) => ({ seed: p.seed, final_loss: p.final_loss, final_val_loss: p.final_val_loss })),
  };
}

export function trainSummaryText(s: ReturnType<typeof trainSummary>): string {
  const per = s.per_seed.map((p) => `${p.seed}: ${fmt(p.final_loss)}/${fmt(p.final_val_loss)}`).join(', ');
  return `summary over ${s.seeds.length} seeds: final loss ${pm({ mean: s.final_loss_mean, sd: s.final_loss_sd })}, val ${pm({ mean: s.final_val_loss_mean, sd: s.final_val_loss_sd })} (mean ± sd); per seed loss/val ${per}\n`;
}

export interface GrpoSeedResult {
  seed: number;
  before: number | null;
  after: number | null;
  warnings: string[];
}

/**
 * grpo --seeds: held-out accuracy before and after GRPO (means), the lift's mean, standard error
 * and minimum (liftSummary), the number of held-out prompts, and per seed each accuracy with its
 * standard error √(p(1 − p)/n).
 */
export function grpoSummary(per: readonly GrpoSeedResult[], heldoutPrompts: number) {
  const lift = liftSummary(per.map(({ seed, before, after }) => ({ seed, before, after })));
  const se = (p: number | null) => (p === null ? null : accuracySe(p, heldoutPrompts));
  return {
    done: true,
    ...lift,
    heldout_prompts: heldoutPrompts,
    per_seed: lift.per_seed.map((p) => ({ ...p, before_se: se(p.before), after_se: se(p.after) })),
    warnings: per.flatMap((p) => p.warnings.map((w) => `seed ${p.seed}: ${w}`)),
  };
}

export function grpoSummaryText(s: ReturnType<typeof grpoSummary>): string {
  const per = s.per_seed
    .map((p) => `${p.seed}: ${fmt(p.before, 3)} → ${fmt(p.after, 3)} (${fmt(p.lift, 3)})`)
    .join(', ');
  return `summary over ${s.seeds.length} seeds (${s.heldout_prompts} held-out prompts): accuracy ${fmt(s.heldout_accuracy_before, 3)} → ${fmt(s.heldout_accuracy_after, 3)}, lift ${fmt(s.lift_mean, 3)} ± ${fmt(s.lift_se, 3)} (se), min ${fmt(s.lift_min, 3)}; per seed ${per}\n`;
}

export interface DistillSeedResult {
  seed: number;
  base: number | null;
  rl: number | null;
  distill: number | null;
}

/** distill --seeds: each arm's held-out accuracy per seed and its mean ± sd over seeds. */
export function distillSummary(per: readonly DistillSeedResult[], heldoutPrompts: number) {
  const arm = (k: 'base' | 'rl' | 'distill') => meanSd(per.map((p) => p[k]));
  const [base, rl, distill] = [arm('base'), arm('rl'), arm('distill')];
  return {
    done: true,
    seeds: per.map((p) => p.seed),
    heldout_prompts: heldoutPrompts,
    base_heldout_mean: base.mean,
    base_heldout_sd: base.sd,
    rl_heldout_mean: rl.mean,
    rl_heldout_sd: rl.sd,
    distill_heldout_mean: distill.mean,
    distill_heldout_sd: distill.sd,
    per_seed: per.map((p) => ({ seed: p.seed, base: p.base, rl: p.rl, distill: p.distill })),
  };
}

export function distillSummaryText(s: ReturnType<typeof distillSummary>): string {
  const per = s.per_seed.map((p) => `${p.seed}: ${fmt(p.base, 3)}/${fmt(p.rl, 3)}/${fmt(p.distill, 3)}`).join(', ');
  const m = (mean: number | null, sd: number | null) => pm({ mean, sd }, 3);
  return `summary over ${s.seeds.length} seeds (${s.heldout_prompts} held-out prompts): base ${m(s.base_heldout_mean, s.base_heldout_sd)}, rl ${m(s.rl_heldout_mean, s.rl_heldout_sd)}, distill ${m(s.distill_heldout_mean, s.distill_heldout_sd)} (mean ± sd); per seed base/rl/distill ${per}\n`;
}
