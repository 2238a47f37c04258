// Multi-token prediction: the module's gradient (CPU float64 backward vs finite differences,
// through the op-check harness, with the GPU forward/backward compared too), the checkpoint
// names of its parameters, and the T − k ≥ 1 guard.
import { describe, expect, it } from 'vitest';
import { mtpChecks } from '../check/mtp';
import { FD_TOLERANCE, runCheck } from '../check/harness';
import { Rng } from '../engine/rng';
import { findPreset } from '../config';
import { cpu, gpuBackend } from '../test/gpu';
import { modelConfigOf, parameterShapes, type ModelConfig } from './config';
import { getter, initParams } from './model';
import { mtpLosses, mtpShapes } from './mtp';

const V = 17;

function config(name: string, set: Partial<ModelConfig> = {}): ModelConfig {
  return { ...modelConfigOf(findPreset(name)!.config, V), ...set };
}

describe('MTP module', () => {
  it('gradcheck: CPU backward = finite differences, GPU = CPU (seeds 1..3, three regimes each)', async () => {
    const gpu = await gpuBackend();
    for (const seed of [1, 2, 3]) {
      for (const r of await runCheck(mtpChecks[0], seed, cpu, gpu)) {
        const msg = `seed ${seed} ${r.desc}: fwd ${r.forwardErr.toExponential(2)} bwd ${r.backwardErr?.toExponential(2)} fd ${r.finiteDiffErr?.toExponential(2)}`;
        console.log(`[mtp] ${msg}`);
        expect(r.finiteDiffErr, msg).not.toBeNull();
        expect(r.finiteDiffErr!, msg).toBeLessThanOrEqual(FD_TOLERANCE);
        expect(r.ok, msg).toBe(true);
      }
    }
  });

  for (const name of ['micro-dense', 'micro-mla', 'micro-moe']) {
    it(`mtpShapes uses the checkpoint layout at layer index L (${name})`, () => {
      const c = config(name);
      const L = c.num_hidden_layers;
      const d = c.hidden_size;
      const shapes = new Map(mtpShapes(c, 2));
      for (const [l, k] of [
        [L, 1],
        [L + 1, 2],
      ]) {
        const pre = `model.layers.${l}`;
        expect(shapes.get(`${pre}.enorm.weight`), `module ${k}`).toEqual([d]);
        expect(shapes.get(`${pre}.hnorm.weight`)).toEqual([d]);
        expect(shapes.get(`${pre}.eh_proj.weight`)).toEqual([d, 2 * d]);
        expect(shapes.get(`${pre}.shared_head.norm.weight`)).toEqual([d]);
        expect(shapes.get(`${pre}.input_layernorm.weight`)).toEqual([d]);
        expect(shapes.get(`${pre}.post_attention_layernorm.weight`)).toEqual([d]);
        expect(shapes.has(`${pre}.self_attn.o_proj.weight`)).toBe(true);
        expect(
          shapes.has(
            c.attention === 'mla' ? `${pre}.self_attn.kv_a_proj_with_mqa.weight` : `${pre}.self_attn.k_proj.weight`,
          ),
        ).toBe(true);
        expect(
          shapes.has(c.ffn === 'moe' ? `${pre}.mlp.experts.gate_proj.weight` : `${pre}.mlp.gate_proj.weight`),
        ).toBe(true);
      }
      // No copies of the shared head or embedding, nothing outside the two module layers.
      for (const n of shapes.keys()) {
        expect(n.startsWith(`model.layers.${L}.`) || n.startsWith(`model.layers.${L + 1}.`), n).toBe(true);
        expect(n).not.toMatch(/embed_tokens|lm_head|shared_head\.head/);
      }
      // The block inside a module has exactly the main model's layer-(L−1) parameters (same rule).
      const mainLast = parameterShapes(c).filter(([n]) => n.startsWith(`model.layers.${L - 1}.`));
      const module1 = [...shapes].filter(
        ([n]) => n.startsWith(`model.layers.${L}.`) && !/\.(enorm|hnorm|eh_proj|shared_head)\./.test(n),
      );
      expect(module1.map(([n, s]) => [n.replace(`layers.${L}.`, 'layers.X.'), s])).toEqual(
        mainLast.map(([n, s]) => [n.replace(`layers.${L - 1}.`, 'layers.X.'), s]),
      );
      expect(mtpShapes(c, 0)).toEqual([]);
    });
  }

  it('concatenates [enorm(Emb) ; hnorm(h)] (embedding first) and drops the last hidden position', async () => {
    const c = config('micro-dense', {
      hidden_size: 8,
      num_attention_heads: 2,
      num_key_value_heads: 2,
      intermediate_size: 12,
    });
    const d = c.hidden_size;
    const [B, T] = [2, 5];
    const rng = new Rng(11);
    const params = initParams(cpu, c, rng);
    for (const [name, shape] of mtpShapes(c, 1)) {
      const n = shape.reduce((a, b) => a * b, 1);
      params.set(
        name,
        cpu.fromArray(name.endsWith('norm.weight') ? new Float64Array(n).fill(1) : rng.normalArray(n, 0.3), shape),
      );
    }
    const eh = `model.layers.${c.num_hidden_layers}.eh_proj.weight`;
    const w = (await params.get(eh)!.read()) as Float64Array;
    const ids = (a: number[]) => cpu.fromArray(Int32Array.from(a), [B, T - 1], 'i32');
    const targets = ids([1, 2, 3, 4, 5, 6, 7, 8]);
    const h = rng.normalArray(B * T * d);
    const loss = async (cols: 'emb' | 'hidden' | 'both', idsArr: number[], hArr: Float64Array) => {
      // Keep only the eh_proj columns that act on one half of the concatenation.
      const wk = w.map((v, i) => (cols === 'both' || (cols === 'emb') === i % (2 * d) < d ? v : 0));
      params.set(eh, cpu.fromArray(wk, [d, 2 * d]));
      const [l] = mtpLosses(getter(params), c, cpu.fromArray(hArr, [B, T, d]), [ids(idsArr)], [targets], null);
      return (await l.read())[0];
    };
    const idsA = [3, 1, 4, 1, 5, 9, 2, 6];
    const idsB = [2, 7, 1, 8, 2, 8, 1, 8];
    const hOther = rng.normalArray(B * T * d);
    // Columns [0, d) see the embedding only: the hidden state then cannot matter, the ids must.
    expect(await loss('emb', idsA, h)).toBe(await loss('emb', idsA, hOther));
    expect(await loss('emb', idsA, h)).not.toBe(await loss('emb', idsB, h));
    // Columns [d, 2d) see the hidden state only.
    expect(await loss('hidden', idsA, h)).toBe(await loss('hidden', idsB, h));
    expect(await loss('hidden', idsA, h)).not.toBe(await loss('hidden', idsA, hOther));
    // Position T−1 of hMain is never used (module 1 predicts t_{i+2} from h_i, i ≤ T−2).
    const hLast = h.slice();
    for (let b = 0; b < B; b++) for (let j = 0; j < d; j++) hLast[(b * T + T - 1) * d + j] += 5;
    expect(await loss('both', idsA, hLast)).toBe(await loss('both', idsA, h));
  });

  it('D = 1 works at T = 2 (one position) and T = 1 throws', async () => {
    const c = config('micro-mla', { initializer_range: 0.3 });
    const rng = new Rng(5);
    const params = initParams(cpu, c, rng);
    for (const [name, shape] of mtpShapes(c, 1)) {
      const n = shape.reduce((a, b) => a * b, 1);
      params.set(
        name,
        cpu.fromArray(name.endsWith('norm.weight') ? new Float64Array(n).fill(1) : rng.normalArray(n, 0.3), shape),
      );
    }
    const p = getter(params);
    const d = c.hidden_size;
    const B = 2;
    const h2 = cpu.fromArray(rng.normalArray(B * 2 * d), [B, 2, d]);
    const [l1, ...rest] = mtpLosses(
      p,
      c,
      h2,
      [cpu.fromArray(Int32Array.from([3, 9]), [B, 1], 'i32')],
      [cpu.fromArray(Int32Array.from([4, 1]), [B, 1], 'i32')],
      null,
    );
    expect(rest).toHaveLength(0);
    expect(l1.shape).toEqual([1]);
    const v = (await l1.read())[0];
    expect(Number.isFinite(v) && v > 0).toBe(true);

    const h1 = cpu.fromArray(rng.normalArray(B * d), [B, 1, d]);
    const empty = cpu.fromArray(new Int32Array(0), [B, 0], 'i32');
    expect(() => mtpLosses(p, c, h1, [empty], [empty], null)).toThrow(/T − k ≥ 1/);
    // Depth 2 needs T ≥ 3.
    expect(() => mtpLosses(p, c, h2, [empty, empty], [empty, empty], null)).toThrow(/T − k ≥ 1/);
  });
});
