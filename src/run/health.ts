// Bad outcomes of RL said in words: a policy that collapses (entropy → 0 while the reward falls)
// or forgets the format. Read from the GRPO steps' metrics; the CLI prints the warnings and the
// page shows them above the RL charts.

import type { StepMetrics } from './metrics';

/** GRPO steps compared: the first and the last `window` of them. */
export const HEALTH_WINDOW = 5;
/** Entropy (nats per sampled token) under which a policy is called collapsed. */
export const COLLAPSED_ENTROPY = 0.05;

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/** Warnings about the GRPO steps in `metrics` (empty when healthy or too early to tell). */
export function policyWarnings(metrics: readonly StepMetrics[], window = HEALTH_WINDOW): string[] {
  const grpo = metrics.filter((m) => m.stage === 'grpo' && m.reward !== undefined);
  if (grpo.length < 2 * window) return [];
  const first = grpo.slice(0, window);
  const last = grpo.slice(-window);
  const at = grpo[grpo.length - 1].step;
  const out: string[] = [];
  const pick = (ms: StepMetrics[], k: 'reward' | 'entropy' | 'format_rate') => mean(ms.map((m) => m[k] ?? 0));
  const [r0, r1] = [pick(first, 'reward'), pick(last, 'reward')];
  const [e0, e1] = [pick(first, 'entropy'), pick(last, 'entropy')];
  if (e1 < COLLAPSED_ENTROPY && e1 < 0.25 * e0 && r1 < r0)
    out.push(
      `policy collapse by step ${at}: entropy ${e0.toFixed(3)} → ${e1.toFixed(3)} while the mean reward fell ${r0.toFixed(3)} → ${r1.toFixed(3)}; lower rl.lr or raise rl.beta`,
    );
  const [f0, f1] = [pick(first, 'format_rate'), pick(last, 'format_rate')];
  if (f1 < f0 - 0.2)
    out.push(
      `format is being forgotten by step ${at}: format rate ${f0.toFixed(2)} → ${f1.toFixed(2)}; raise rl.format_weight or rl.beta`,
    );
  return out;
}
