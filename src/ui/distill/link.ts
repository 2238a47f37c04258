// The distillation view's link: ?view=distill&teacher=NAME&student=NAME&seed=N (query string, so
// the lab's hash link is untouched). A bad value is named and falls back to the default.

import { z } from 'zod';
import { PRESETS } from '../../config';

export interface DistillLinkState {
  teacher: string;
  student: string;
  seed: number;
}

export const DISTILL_DEFAULTS: DistillLinkState = { teacher: 'grpo-micro', student: 'distill-vs-rl', seed: 1 };

/** Presets that can take part: RL pipelines. */
export const RL_PRESETS = PRESETS.filter((p) => p.config.rl.mode === 'pipeline').map((p) => p.name);

const presetName = z
  .string()
  .refine((n) => RL_PRESETS.includes(n), { message: `not an RL preset (${RL_PRESETS.join(', ')})` });
const seedSchema = z.coerce
  .number()
  .int()
  .min(0)
  .max(2 ** 32 - 1);

export function decodeDistillLink(search: string): { state: DistillLinkState; problems: string[] } {
  const q = new URLSearchParams(search);
  const state = { ...DISTILL_DEFAULTS };
  const problems: string[] = [];
  for (const key of ['teacher', 'student'] as const) {
    const raw = q.get(key);
    if (raw === null) continue;
    const r = presetName.safeParse(raw);
    if (r.success) state[key] = r.data;
    else problems.push(`${key}: "${raw}" is ${r.error.issues[0].message}; using ${DISTILL_DEFAULTS[key]}`);
  }
  const rawSeed = q.get('seed');
  if (rawSeed !== null) {
    const r = seedSchema.safeParse(rawSeed.trim() === '' ? NaN : rawSeed);
    if (r.success) state.seed = r.data;
    else problems.push(`seed: "${rawSeed}" is not an integer in [0, 2^32); using ${DISTILL_DEFAULTS.seed}`);
  }
  return { state, problems };
}

export function encodeDistillLink(s: DistillLinkState): string {
  return `?view=distill&teacher=${encodeURIComponent(s.teacher)}&student=${encodeURIComponent(s.student)}&seed=${s.seed}`;
}
