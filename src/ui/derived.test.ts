import { describe, expect, it } from 'vitest';
import { applyOverrides, findPreset } from '../config';
import type { RunInfo } from '../lab/api';
import { runMemory } from '../run/memory';
import { generateCorpus } from '../train/data/corpora';
import { modelConfigOf } from '../model/config';
import {
  BUILTIN_VOCAB,
  deriveFigures,
  distinctChars,
  estimateVocab,
  kvFigures,
  memoryFigure,
  NOMINAL_VOCAB,
} from './derived';

describe('derived figures', () => {
  it('the built-in vocab estimates match the generated corpora', () => {
    expect(distinctChars(generateCorpus('grammar', 50_000, 1))).toBe(BUILTIN_VOCAB.grammar);
    expect(distinctChars(generateCorpus('arith', 50_000, 1))).toBe(BUILTIN_VOCAB.arith);
  });

  it('counts code points, astral ones included', () => {
    expect(distinctChars('abcabc')).toBe(3);
    expect(distinctChars('a😀b😀😁')).toBe(4);
  });

  it('uses the known vocab for the same data, else an estimate', () => {
    const data = findPreset('micro-dense')!.config.data;
    expect(estimateVocab(data, { data, vocabSize: 30 }, () => 0)).toEqual({ size: 30, estimated: false });
    expect(estimateVocab(data, null, () => 0)).toEqual({ size: 27, estimated: true });
    expect(estimateVocab({ ...data, corpus: 'text', text: 'xyz' }, { data, vocabSize: 30 }, () => 3)).toEqual({
      size: 3,
      estimated: true,
    });
  });

  it('dense: active params = total params', () => {
    const f = deriveFigures(findPreset('micro-dense')!.config, { size: 27, estimated: true });
    expect(f.params).toBeGreaterThan(80_000);
    expect(f.activeParams).toBe(f.params);
    expect(f.kvBytesPerToken).toBe(2 * 2 * 64 * 4);
  });

  it('KV cache: MLA caches the latent plus the RoPE key; the MHA equivalent caches K and V of every head', () => {
    const mla = kvFigures(modelConfigOf(findPreset('micro-mla')!.config, 27));
    // 2 layers × (32 + 8) vs 2 layers × 4 heads × (16 + 8 + 16)
    expect(mla).toMatchObject({
      kind: 'mla',
      layers: 2,
      values: 80,
      mhaValues: 320,
      bytes: { f32: 320, bf16: 160 },
      mhaBytes: { f32: 1280, bf16: 640 },
      ratio: 4,
    });
    const mha = kvFigures(modelConfigOf(findPreset('micro-dense')!.config, 27));
    expect(mha).toMatchObject({ kind: 'mha', values: 2 * 2 * 64, mhaValues: 2 * 2 * 64, ratio: 1 });
    const cfg = findPreset('micro-dense')!.config;
    const gqa = kvFigures(modelConfigOf({ ...cfg, model: { ...cfg.model, num_key_value_heads: 1 } }, 27));
    expect(gqa).toMatchObject({ kind: 'gqa', values: 2 * 2 * 16, ratio: 4 });
    // DeepSeek-V3's headline: 576 values per token per layer (512 + 64) vs 128·(128+64+128).
    const v3 = kvFigures(
      modelConfigOf(
        {
          ...cfg,
          arch: { ...cfg.arch, attention: 'mla' },
          model: {
            ...cfg.model,
            num_hidden_layers: 61,
            num_attention_heads: 128,
            kv_lora_rank: 512,
            qk_rope_head_dim: 64,
            qk_nope_head_dim: 128,
            v_head_dim: 128,
          },
        },
        27,
      ),
    );
    expect(v3.values / 61).toBe(576);
    expect(v3.ratio).toBeCloseTo((128 * 320) / 576, 6);
  });
});

describe('pre-flight memory estimate', () => {
  it('uses the run’s vocabulary for the same data, else a nominal 96 (marked as not exact)', () => {
    const cfg = findPreset('micro-dense')!.config;
    const nominal = memoryFigure(cfg, null, 'webgpu');
    expect(nominal).toMatchObject({ vocab: NOMINAL_VOCAB, exact: false, refusal: null });
    expect(nominal.estimate.total).toBe(runMemory(cfg, 96).total);
    const info = { config: cfg, vocabSize: 27 } as RunInfo;
    expect(memoryFigure(cfg, info, 'webgpu')).toMatchObject({ vocab: 27, exact: true });
    const text = { ...cfg, data: { ...cfg.data, corpus: 'text' as const, text: 'abc' } };
    expect(memoryFigure(text, info, 'webgpu').exact).toBe(false);
  });

  it('says, in the lab’s words, that an oversized run will be refused and which field to lower', () => {
    const cfg = applyOverrides(findPreset('micro-dense')!.config, { 'data.batch_size': 1024, 'data.seq_len': 1024 });
    const f = memoryFigure(cfg, null, 'webgpu');
    expect(f.estimate.total).toBeGreaterThan(8 * 2 ** 30);
    expect(f.refusal).toMatch(
      /^memory: this run needs about .* GiB .* over the lab's 8\.0 GiB budget; .*lower data\.batch_size/,
    );
    // The CPU reference has a smaller budget.
    const small = applyOverrides(findPreset('micro-dense')!.config, { 'data.batch_size': 256, 'data.seq_len': 1024 });
    expect(memoryFigure(small, null, 'webgpu').refusal).toBeNull();
    expect(memoryFigure(small, null, 'cpu').refusal).toMatch(/budget/);
  });
});
