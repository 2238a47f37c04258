import { describe, expect, it } from 'vitest';
import { findPreset } from '../config';
import type { QuantLayerStats } from '../lowp/stats';
import { generateCorpus } from '../train/data/corpora';
import { CORPUS_EXAMPLES, defaultAttentionText, pow2, scaleHistogram, scaleRange, weightName } from './inspect';

describe('inspection helpers', () => {
  const cfg = findPreset('micro-dense')!.config;

  it('the attention text: latest sample, else the corpus example, cut to seq_len', () => {
    expect(defaultAttentionText(cfg, [])).toBe('the small cat sees a dog.');
    expect(defaultAttentionText(cfg, [{ text: 'old' }, { text: 'a dog helps.' }])).toBe('a dog helps.');
    expect(defaultAttentionText(cfg, [{ text: '  ' }])).toBe('the small cat sees a dog.');
    const short = { ...cfg, data: { ...cfg.data, seq_len: 5 } };
    expect(defaultAttentionText(short, [])).toBe('the s');
    expect(defaultAttentionText({ ...cfg, data: { ...cfg.data, corpus: 'text', text: 'hello world' } }, [])).toBe(
      'hello world',
    );
    expect(defaultAttentionText({ ...cfg, data: { ...cfg.data, corpus: 'arith' } }, [])).toBe(CORPUS_EXAMPLES.arith);
    expect(defaultAttentionText(null, [])).toBe(CORPUS_EXAMPLES.grammar);
  });

  it('the corpus examples only use characters of their corpus', () => {
    for (const kind of ['grammar', 'arith'] as const) {
      const vocab = new Set(generateCorpus(kind, 50_000, 1));
      for (const ch of CORPUS_EXAMPLES[kind]) expect(vocab.has(ch), `${kind}: ${JSON.stringify(ch)}`).toBe(true);
    }
  });

  it('names, histograms and ranges of the quantization statistics', () => {
    expect(weightName('model.layers.3.self_attn.q_proj.weight')).toEqual({ layer: 3, name: 'q_proj' });
    expect(weightName('model.layers.0.mlp.shared_experts.up_proj.weight')).toEqual({
      layer: 0,
      name: 'shared.up_proj',
    });
    expect(weightName('model.layers.1.mlp.down_proj.weight')).toEqual({ layer: 1, name: 'down_proj' });
    expect(weightName('lm_head.weight')).toEqual({ layer: null, name: 'lm_head' });
    const stats: QuantLayerStats[] = [
      { name: 'a', calcDiff: 0, saturated: 0, amax: 1, scaleLog2: { [-9]: 2, [-12]: 1 } },
      { name: 'b', calcDiff: 0, saturated: 0, amax: 1, scaleLog2: { [-9]: 3 } },
    ];
    expect(scaleHistogram(stats)).toEqual([
      [-12, 1],
      [-9, 5],
    ]);
    expect(scaleRange(stats[0])).toBe('2⁻¹² … 2⁻⁹');
    expect(scaleRange(stats[1])).toBe('2⁻⁹');
    expect(pow2(10)).toBe('2¹⁰');
  });
});
