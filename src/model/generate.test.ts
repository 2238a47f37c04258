// The generation engine: cached decoding equals a full forward without a cache (MHA, GQA, MLA,
// MoE; batches of prompts of different lengths; 64 new tokens), greedy speculative decoding
// emits exactly the greedy tokens, speculative sampling keeps plain sampling's distribution
// (a two-sample chi-square test), stop tokens and budgets, determinism, and bad input.
import { describe, expect, it } from 'vitest';
import type { Backend } from '../engine/backend';
import { Rng } from '../engine/rng';
import { findPreset } from '../config';
import { cpu, gpuBackend } from '../test/gpu';
import { modelConfigOf, type ModelConfig } from './config';
import { Generator, type GenerateOptions } from './generate';
import { forward, initParams } from './model';

const V = 17;

function config(name: string, set: Partial<ModelConfig> = {}): ModelConfig {
  return { ...modelConfigOf(findPreset(name)!.config, V), ...set };
}

function prompts(rng: Rng, lengths: number[]): number[][] {
  return lengths.map((L) => Array.from({ length: L }, () => rng.int(0, V - 1)));
}

/** Max abs difference between the engine's logits for every generated token and a full forward of prompt + tokens. */
async function cachedVsFull(
  be: Backend,
  c: ModelConfig,
  opts: Partial<GenerateOptions> = {},
): Promise<{ worst: number; tokens: number }> {
  const params = initParams(be, c, new Rng(4));
  const gen = Generator.create(be, params, c);
  const ps = prompts(new Rng(8), [1, 7, 12]);
  const res = await gen.generate({
    prompts: ps,
    maxNewTokens: [64, 40, 64],
    sampling: { temperature: 1, topK: 0, topP: 1 },
    seed: 3,
    keepLogits: true,
    ...opts,
  });
  gen.dispose();
  let worst = 0;
  let tokens = 0;
  for (const [b, s] of res.sequences.entries()) {
    const seq = [...ps[b], ...s.tokens];
    const T = seq.length - 1; // the last token's logits are never used
    const full = (await forward(params, c, be.fromArray(seq.slice(0, T), [1, T], 'i32')).read()) as Float64Array;
    for (let i = 0; i < s.tokens.length; i++) {
      const at = ps[b].length - 1 + i; // token i was sampled from the logits at this position
      for (let v = 0; v < V; v++) worst = Math.max(worst, Math.abs(s.logits![i][v] - full[at * V + v]));
      tokens++;
    }
  }
  return { worst, tokens };
}

describe('generation engine', () => {
  const cases: Array<[string, Partial<ModelConfig>]> = [
    ['micro-dense', {}],
    ['micro-dense', { num_key_value_heads: 2 }],
    ['micro-mla', {}],
    ['micro-mla', { q_lora_rank: 12 }],
    ['micro-v3', {}],
  ];
  for (const [name, set] of cases) {
    const label = `${name}${Object.keys(set).length ? ' ' + JSON.stringify(set) : ''}`;
    it(`cached decoding equals a full forward at every generated position (${label})`, async () => {
      const c = config(name, set);
      for (const be of [cpu, await gpuBackend()]) {
        const { worst, tokens } = await cachedVsFull(be, c);
        console.log(`[generate] ${label} ${be.name}: max |logit diff| ${worst.toExponential(2)} over ${tokens} tokens`);
        expect(tokens).toBe(64 + 40 + 64);
        expect(worst).toBeLessThan(be.name === 'cpu' ? 1e-9 : 1e-4);
      }
    });
  }

  it('speculative decoding: the emitted tokens have the main model logits of a full forward too', async () => {
    const c = config('micro-v3');
    const { worst, tokens } = await cachedVsFull(cpu, c, { speculative: true });
    expect(tokens).toBe(64 + 40 + 64);
    expect(worst).toBeLessThan(1e-9);
  });

  it('greedy speculative decoding emits exactly the greedy tokens', async () => {
    const c = config('micro-v3', { initializer_range: 0.3 });
    for (const be of [cpu, await gpuBackend()]) {
      const params = initParams(be, c, new Rng(6));
      const gen = Generator.create(be, params, c);
      const ps = prompts(new Rng(2), [3, 9, 1, 5]);
      const base = { prompts: ps, maxNewTokens: 48, sampling: { temperature: 0, topK: 0, topP: 1 }, seed: 1 };
      const plain = await gen.generate(base);
      const spec = await gen.generate({ ...base, speculative: true, seed: 99 });
      gen.dispose();
      expect(spec.sequences.map((s) => s.tokens)).toEqual(plain.sequences.map((s) => s.tokens));
      for (const [b, s] of spec.sequences.entries()) {
        for (let i = 0; i < s.logprobs.length; i++)
          expect(Math.abs(s.logprobs[i] - plain.sequences[b].logprobs[i])).toBeLessThan(
            be.name === 'cpu' ? 1e-9 : 1e-4,
          );
      }
      console.log(
        `[generate] greedy ${be.name}: plain ${plain.stats.forwards} forwards, speculative ${spec.stats.forwards} forwards, acceptance ${spec.stats.acceptanceRate?.toFixed(3)}`,
      );
      expect(spec.stats.drafted).toBeGreaterThan(0);
      // An accepted draft emits two tokens per main forward.
      expect(spec.stats.forwards).toBeLessThanOrEqual(plain.stats.forwards);
    }
  });

  it('speculative sampling leaves the token distribution unchanged (two-sample chi-square)', async () => {
    // A tiny vocabulary and a sharp random model, so the MTP draft distribution q is far from
    // the main model's p (a draft-only sampler fails this test; see the control below).
    const v = 5;
    const c = { ...config('micro-v3', { initializer_range: 0.8 }), vocab_size: v };
    const params = initParams(cpu, c, new Rng(11));
    const gen = Generator.create(cpu, params, c);
    const N = 1500;
    const base = {
      prompts: Array.from({ length: N }, () => [1, 3]),
      maxNewTokens: 3,
      sampling: { temperature: 1, topK: 0, topP: 1 },
    };
    const plain = await gen.generate({ ...base, seed: 1 });
    const spec = await gen.generate({ ...base, seed: 2, speculative: true });
    gen.dispose();
    const gen2 = async (ps: typeof params, cc: ModelConfig, o: GenerateOptions) => {
      const g = Generator.create(cpu, ps, cc);
      const r = await g.generate(o);
      g.dispose();
      return r;
    };
    // Joint distribution of the 2nd and 3rd tokens (the ones the drafts decide): v² cells.
    const counts = (r: typeof plain) => {
      const h = new Array(v * v).fill(0);
      for (const s of r.sequences) h[s.tokens[1] * v + s.tokens[2]]++;
      return h;
    };
    const chi2 = (a: number[], b: number[]) => {
      // Two-sample chi-square with equal sample sizes: Σ (a−b)² / (a+b) over non-empty cells.
      let x = 0;
      let df = -1;
      for (let i = 0; i < a.length; i++) if (a[i] + b[i] > 0) (x += (a[i] - b[i]) ** 2 / (a[i] + b[i])), df++;
      return { x, df };
    };
    const { x, df } = chi2(counts(plain), counts(spec));
    // 99.9th percentile of chi-square ≈ df + 3.1·sqrt(2·df) + 5 (Wilson–Hilferty, rounded up):
    // a correct sampler fails this with probability ≈ 0.001.
    const limit = df + 3.1 * Math.sqrt(2 * df) + 5;
    console.log(
      `[generate] speculative vs plain sampling: chi2 ${x.toFixed(1)} on ${df} df (limit ${limit.toFixed(1)}), acceptance ${spec.stats.acceptanceRate?.toFixed(3)}`,
    );
    expect(spec.stats.acceptanceRate!).toBeLessThan(0.95); // the drafts really are rejected at times
    expect(x).toBeLessThan(limit);
    // Power control: the same statistic and limit do reject a modestly different distribution
    // (plain sampling at temperature 1.3), so passing above is not for lack of samples.
    const warmer = await gen2(params, c, { ...base, seed: 3, sampling: { temperature: 1.3, topK: 0, topP: 1 } });
    const control = chi2(counts(plain), counts(warmer));
    console.log(`[generate] control (T = 1 vs T = 1.3): chi2 ${control.x.toFixed(1)} on ${control.df} df`);
    expect(control.x).toBeGreaterThan(limit);
  });

  it('stops at a stop token or the budget, per sequence, and keeps the stop token', async () => {
    const c = config('micro-dense', { initializer_range: 0.3 });
    const params = initParams(cpu, c, new Rng(3));
    const gen = Generator.create(cpu, params, c);
    const ps = prompts(new Rng(5), [2, 4, 6]);
    const free = await gen.generate({
      prompts: ps,
      maxNewTokens: 20,
      sampling: { temperature: 0, topK: 0, topP: 1 },
      seed: 1,
    });
    const stopAt = free.sequences[1].tokens[4];
    const stopped = await gen.generate({
      prompts: ps,
      maxNewTokens: [20, 20, 3],
      stopTokens: [stopAt],
      sampling: { temperature: 0, topK: 0, topP: 1 },
      seed: 1,
    });
    gen.dispose();
    for (const [b, s] of stopped.sequences.entries()) {
      const ref = free.sequences[b].tokens;
      const first = ref.indexOf(stopAt);
      const limit = b === 2 ? 3 : 20;
      const expectLen = first >= 0 && first < limit ? first + 1 : limit;
      expect(s.tokens).toEqual(ref.slice(0, expectLen));
      expect(s.finish).toBe(first >= 0 && first < limit ? 'stop' : 'length');
      expect(s.logprobs.length).toBe(s.tokens.length);
    }
    expect(stopped.sequences[1].finish).toBe('stop');
  });

  it('a seed gives the same samples and log-probs; another seed gives others', async () => {
    const c = config('micro-mla');
    const params = initParams(cpu, c, new Rng(3));
    const gen = Generator.create(cpu, params, c);
    const opts = {
      prompts: prompts(new Rng(1), [3, 5]),
      maxNewTokens: 24,
      sampling: { temperature: 1.2, topK: 8, topP: 0.95 },
      seed: 7,
    };
    const a = await gen.generate(opts);
    const b = await gen.generate(opts);
    const d = await gen.generate({ ...opts, seed: 8 });
    gen.dispose();
    expect(b.sequences).toEqual(a.sequences);
    expect(d.sequences.map((s) => s.tokens)).not.toEqual(a.sequences.map((s) => s.tokens));
    // Log-probs are log softmax(logits / T) of the sampled token: negative, finite.
    for (const s of a.sequences) for (const lp of s.logprobs) expect(lp < 0 && Number.isFinite(lp)).toBe(true);
  });

  it('top-k = 1 is greedy', async () => {
    const c = config('micro-dense');
    const params = initParams(cpu, c, new Rng(3));
    const gen = Generator.create(cpu, params, c);
    const ps = prompts(new Rng(1), [3, 5]);
    const greedy = await gen.generate({
      prompts: ps,
      maxNewTokens: 12,
      sampling: { temperature: 0, topK: 0, topP: 1 },
      seed: 1,
    });
    const k1 = await gen.generate({
      prompts: ps,
      maxNewTokens: 12,
      sampling: { temperature: 1, topK: 1, topP: 1 },
      seed: 5,
    });
    gen.dispose();
    expect(k1.sequences.map((s) => s.tokens)).toEqual(greedy.sequences.map((s) => s.tokens));
  });

  it('names the problem with bad input', async () => {
    const c = config('micro-dense');
    const gen = Generator.create(cpu, initParams(cpu, c, new Rng(3)), c);
    const ok = { prompts: [[1, 2]], maxNewTokens: 4, sampling: { temperature: 1, topK: 0, topP: 1 }, seed: 1 };
    await expect(gen.generate({ ...ok, prompts: [[]] })).rejects.toThrow(/prompt 0 is empty/);
    await expect(gen.generate({ ...ok, prompts: [[1, V]] })).rejects.toThrow(/outside the vocabulary/);
    await expect(gen.generate({ ...ok, maxNewTokens: 0 })).rejects.toThrow(/maxNewTokens/);
    await expect(gen.generate({ ...ok, sampling: { temperature: -1, topK: 0, topP: 1 } })).rejects.toThrow(
      /temperature/,
    );
    await expect(gen.generate({ ...ok, sampling: { temperature: 1, topK: 0, topP: 0 } })).rejects.toThrow(/topP/);
    await expect(gen.generate({ ...ok, speculative: true })).rejects.toThrow(/MTP module/);
    gen.dispose();
  });
});
