// The bench's own run configs. The micro presets come from lab/presets.ts unchanged; the
// "browser-size" V3 step is defined here: the v3-tiny model (d=256, 6 layers, 8 heads, MLA with
// q rank 96 / latent 64 / RoPE key 32, 16 routed experts in 4 groups, top-2 groups, top-4, 1
// shared expert, expert width 96, first layer dense with width 704, one MTP module) trained on
// batches of 4 sequences of 128 tokens (512 tokens per step; v3-tiny itself uses 32 × 128).
// The smaller batch keeps one step to a few seconds on a software adapter (≈27 MFLOP per token
// for forward + backward); tokens/s is what to compare across adapters.

import { findPreset, PRESETS } from '../config';
import type { RunConfig } from '../config';

export const BROWSER_V3 = 'browser-v3';

export function browserV3(): RunConfig {
  const base = findPreset('v3-tiny');
  if (!base) throw new Error('bench: preset v3-tiny not found');
  const c = structuredClone(base.config);
  c.data = { ...c.data, batch_size: 4, seq_len: 128, corpus_chars: 200_000 };
  return c;
}

/** The presets with a training-step case: every micro-* preset, then browser-v3. */
export function stepPresets(): Array<{ name: string; config: RunConfig }> {
  const micro = PRESETS.filter((p) => p.name.startsWith('micro-')).map((p) => ({ name: p.name, config: p.config }));
  return [...micro, { name: BROWSER_V3, config: browserV3() }];
}
