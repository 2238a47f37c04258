// Helpers for the inspection panels: the default text of the attention heatmap, and names and
// summaries for the quantization statistics. Pure functions.

import type { RunConfig } from '../config';
import type { QuantLayerStats } from '../lowp/stats';

/** The heatmap stays readable up to this many characters (T × T cells). */
export const MAX_ATTENTION_CHARS = 256;

/** A line in the style of each built-in corpus (every character is in its vocabulary). */
export const CORPUS_EXAMPLES: Record<'grammar' | 'arith' | 'task', string> = {
  grammar: 'the small cat sees a dog.',
  arith: '12+34=46\n57-8=49',
  task: '12+34=46\n57+8=65',
};

export function attentionLimit(cfg: RunConfig): number {
  return Math.min(cfg.data.seq_len, MAX_ATTENTION_CHARS);
}

const firstChars = (text: string, n: number) => Array.from(text).slice(0, n).join('');

/**
 * The text shown until the user types one: the start of the latest sample (the model's own
 * text), else the start of the user's corpus, else an example line of the built-in corpus.
 */
export function defaultAttentionText(cfg: RunConfig | null, samples: ReadonlyArray<{ text: string }>): string {
  if (!cfg) return CORPUS_EXAMPLES.grammar;
  const n = attentionLimit(cfg);
  const latest = samples.length ? samples[samples.length - 1].text : '';
  if (latest.trim()) return firstChars(latest, n);
  if (cfg.data.corpus === 'text') return firstChars(cfg.data.text, n);
  return firstChars(CORPUS_EXAMPLES[cfg.data.corpus], n);
}

/**
 * A short name for a block weight, for a narrow table: "model.layers.3.self_attn.q_proj.weight"
 * → { layer: 3, name: "q_proj" }; "….mlp.shared_experts.up_proj.weight" → "shared.up_proj".
 */
export function weightName(full: string): { layer: number | null; name: string } {
  const m = /^model\.layers\.(\d+)\.(.+?)(?:\.weight)?$/.exec(full);
  if (!m) return { layer: null, name: full.replace(/\.weight$/, '') };
  const name = m[2].replace(/^(self_attn|mlp)\./, '').replace(/^shared_experts\./, 'shared.');
  return { layer: Number(m[1]), name };
}

/** floor(log2 scale) → tiles, summed over the layers, as sorted [exponent, count] pairs. */
export function scaleHistogram(stats: readonly QuantLayerStats[]): Array<[number, number]> {
  const total = new Map<number, number>();
  for (const s of stats)
    for (const [k, n] of Object.entries(s.scaleLog2)) total.set(Number(k), (total.get(Number(k)) ?? 0) + n);
  return [...total.entries()].sort((a, b) => a[0] - b[0]);
}

/** The exponent range of one layer's scales, e.g. "2⁻¹² … 2⁻⁹". */
export function scaleRange(s: QuantLayerStats): string {
  const ks = Object.keys(s.scaleLog2).map(Number);
  if (!ks.length) return '–';
  const lo = Math.min(...ks);
  const hi = Math.max(...ks);
  return lo === hi ? pow2(lo) : `${pow2(lo)} … ${pow2(hi)}`;
}

const SUP: Record<string, string> = {
  '-': '⁻',
  '0': '⁰',
  '1': '¹',
  '2': '²',
  '3': '³',
  '4': '⁴',
  '5': '⁵',
  '6': '⁶',
  '7': '⁷',
  '8': '⁸',
  '9': '⁹',
};
export const pow2 = (k: number) => `2${String(k).replace(/./g, (c) => SUP[c] ?? c)}`;
