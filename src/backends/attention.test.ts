// Causal attention beyond its op check (src/check/ops.test.ts): GPU flash-attention kernels vs the
// float64 reference with multi-tile online softmax at T=256, small-workgroup-memory tilings,
// run-to-run bit reproducibility, and the two-dispatch backward (D computed in the dQ kernel)
// giving the bits of the three-dispatch one (D by attention_bwd_prep).
import { afterEach, describe, expect, it } from 'vitest';
import type { AttentionShape, Backend } from '../engine/backend';
import { Rng } from '../engine/rng';
import { sizeOf, type Tensor } from '../engine/tensor';
import { attentionChecks, attentionShapes } from '../check/attention';
import { relErr } from '../check/harness';
import { cpu, gpuBackend } from '../test/gpu';
import {
  attentionTile,
  setAttentionNarrowLanes,
  setAttentionSeparatePrep,
  setAttentionWorkgroupBudget,
} from './webgpu/attention';
import { setKernelPaths } from './webgpu/device';

function randomInputs(s: AttentionShape, seed: number) {
  const rng = new Rng(seed);
  const sh = attentionShapes(s);
  const normal = (shape: number[]) => rng.normalArray(sizeOf(shape));
  return { q: normal(sh.q), k: normal(sh.k), v: normal(sh.v), dO: normal(sh.o) };
}

/** Forward and backward on one backend; returns host copies of o, lse, dq, dk, dv. */
async function runAll(be: Backend, s: AttentionShape, x: ReturnType<typeof randomInputs>, withBackward = true) {
  const sh = attentionShapes(s);
  const q = be.fromArray(x.q, sh.q);
  const k = be.fromArray(x.k, sh.k);
  const v = be.fromArray(x.v, sh.v);
  const { o, lse } = be.attention(q, k, v, s);
  const ts: Tensor[] = [o, lse];
  if (withBackward) {
    const dO = be.fromArray(x.dO, sh.o);
    const g = be.attentionBackward(q, k, v, o, lse, dO, s);
    ts.push(g.dq, g.dk, g.dv, dO);
  }
  const out: Float64Array[] = [];
  for (const t of ts.slice(0, withBackward ? 5 : 2)) out.push((await t.read()) as Float64Array);
  for (const t of [q, k, v, ...ts]) t.dispose();
  return out;
}

const NAMES = ['o', 'lse', 'dq', 'dk', 'dv'];

async function compare(s: AttentionShape, seed: number, withBackward = true) {
  const gpu = await gpuBackend();
  const x = randomInputs(s, seed);
  const ref = await runAll(cpu, s, x, withBackward);
  const got = await runAll(gpu, s, x, withBackward);
  return ref.map((r, i) => ({ name: NAMES[i], err: relErr(got[i], r) }));
}

function fmt(errs: Array<{ name: string; err: number }>): string {
  return errs.map((e) => `${e.name} ${e.err.toExponential(2)}`).join(', ');
}

const check = attentionChecks[0];

/** The op check's tolerances: tolForward (1e-5) for o and lse, tolBackward (1e-4) for the gradients. */
function expectClose(errs: Array<{ name: string; err: number }>): void {
  for (const e of errs) {
    expect(e.err, fmt(errs)).toBeLessThan(e.name === 'o' || e.name === 'lse' ? check.tolForward : check.tolBackward);
  }
}

afterEach(() => {
  setAttentionWorkgroupBudget(null);
  setAttentionSeparatePrep(false);
});

describe('attention (GPU vs CPU float64 reference)', () => {
  it('T=256 with realistic dims: multi-tile online softmax forward (and backward) match', async () => {
    // MLA-like head dims (qk = nope + rope ≠ v), GQA 4:2, 256 tokens = many key tiles per block.
    const s: AttentionShape = { batch: 1, seq: 256, heads: 4, kvHeads: 2, dQK: 48, dV: 32, scale: 1 / Math.sqrt(48) };
    const errs = await compare(s, 11);
    console.log(`[attention] T=256 dQK=48 dV=32 H=4 Hkv=2: ${fmt(errs)}`);
    expectClose(errs);
  });

  it('head dim 128 (and MLA 192/128) under the browser-default 16 KiB workgroup memory', async () => {
    const gpu = await gpuBackend();
    setAttentionWorkgroupBudget(16384);
    for (const [dQK, dV] of [
      [128, 128],
      [192, 128],
    ]) {
      for (const kind of ['fwd', 'dq', 'dkdv'] as const) {
        const t = attentionTile(gpu, kind, dQK, dV);
        console.log(
          `[attention] 16 KiB budget dQK=${dQK} dV=${dV} ${kind}: rows ${t.rows} cols ${t.cols} → ${t.threads} threads, ${t.bytes} B`,
        );
        expect(t.bytes).toBeLessThanOrEqual(16384);
      }
      const s: AttentionShape = { batch: 1, seq: 37, heads: 2, kvHeads: 1, dQK, dV, scale: 1 / Math.sqrt(dQK) };
      const errs = await compare(s, 5);
      console.log(`[attention] 16 KiB budget T=37 dQK=${dQK} dV=${dV}: ${fmt(errs)}`);
      expectClose(errs);
    }
  });

  it('f16 tiles (precision.compute = f16): taken where the device has shader-f16, within f16 rounding of float64', async () => {
    const gpu = await gpuBackend();
    if (!gpu.rt.features.shaderF16) {
      console.log('[attention] no shader-f16 on this adapter: the f16 path falls back to f32 tiles');
      return;
    }
    const s: AttentionShape = { batch: 1, seq: 97, heads: 4, kvHeads: 2, dQK: 48, dV: 32, scale: 1 / Math.sqrt(48) };
    const x = randomInputs(s, 17);
    const ref = await runAll(cpu, s, x);
    const f32 = await runAll(gpu, s, x);
    const before = setKernelPaths(gpu, { matmul: 'f16' });
    let f16: Float64Array[];
    try {
      f16 = await runAll(gpu, s, x);
      // Half the bytes per tile: the 16 KiB browser budget takes at least the f32 tiles' rows.
      setAttentionWorkgroupBudget(16384);
      for (const kind of ['fwd', 'dq', 'dkdv'] as const) {
        const [t32, t16] = [attentionTile(gpu, kind, 128, 128), attentionTile(gpu, kind, 128, 128, 'f16')];
        console.log(
          `[attention] 16 KiB, d=128 ${kind}: f32 tiles ${t32.rows}x${t32.cols}, f16 tiles ${t16.rows}x${t16.cols}`,
        );
        expect(t16.rows * t16.cols).toBeGreaterThanOrEqual(t32.rows * t32.cols);
      }
    } finally {
      setKernelPaths(gpu, before);
    }
    const errs = ref.map((r, i) => ({ name: NAMES[i], err: relErr(f16[i], r) }));
    console.log(`[attention] f16 tiles T=97 dQK=48 dV=32: ${fmt(errs)}`);
    // Inputs rounded to f16 (relative 2^-11 ≈ 4.9e-4) with f32 sums: errors of that order, not f32's.
    for (const e of errs) expect(e.err, fmt(errs)).toBeLessThan(5e-3);
    const differs = f16.some((a, i) => !Buffer.from(a.buffer).equals(Buffer.from(f32[i].buffer)));
    expect(differs, 'f16 tiles gave the f32 bits: the path was not taken').toBe(true);
  });

  it('is deterministic: two runs give bit-identical outputs and gradients', async () => {
    const gpu = await gpuBackend();
    const s: AttentionShape = { batch: 2, seq: 70, heads: 4, kvHeads: 2, dQK: 20, dV: 12, scale: 1 / Math.sqrt(20) };
    const x = randomInputs(s, 3);
    const a = await runAll(gpu, s, x);
    const b = await runAll(gpu, s, x);
    for (let i = 0; i < a.length; i++) {
      expect(Buffer.from(a[i].buffer).equals(Buffer.from(b[i].buffer)), `${NAMES[i]} differs between runs`).toBe(true);
    }
  });

  it('backward in two dispatches (D in the dQ kernel): the bits of the three-dispatch path', async () => {
    const gpu = await gpuBackend();
    const bits = (a: Float64Array) => Array.from(new Uint32Array(Float32Array.from(a).buffer));
    const precisions = gpu.rt.features.shaderF16 ? (['f32', 'f16'] as const) : (['f32'] as const);
    // [dQK, dV, heads, kvHeads, batch, workgroup budget]: MHA, GQA, MLA-like (dQK ≠ dV), odd dims,
    // and the 16 KiB browser-default tilings.
    const cases: Array<[number, number, number, number, number, number | null]> = [
      [8, 8, 2, 2, 1, null],
      [20, 12, 4, 2, 2, null],
      [7, 5, 3, 1, 2, null],
      [48, 32, 4, 2, 1, null],
      [64, 64, 2, 1, 1, null],
      [192, 128, 2, 1, 1, 16384],
    ];
    let seed = 40;
    for (const precision of precisions) {
      const before = setKernelPaths(gpu, { matmul: precision });
      try {
        for (const T of [1, 7, 33, 130]) {
          for (const [dQK, dV, heads, kvHeads, batch, budget] of cases) {
            setAttentionWorkgroupBudget(budget);
            const s: AttentionShape = { batch, seq: T, heads, kvHeads, dQK, dV, scale: 1 / Math.sqrt(dQK) };
            const what = `${precision} T=${T} dQK=${dQK} dV=${dV} H=${heads} Hkv=${kvHeads} B=${batch} budget=${budget}`;
            const x = randomInputs(s, seed++);
            setAttentionSeparatePrep(true);
            const three = await runAll(gpu, s, x);
            setAttentionSeparatePrep(false);
            const two = await runAll(gpu, s, x);
            for (let i = 2; i < NAMES.length; i++) expect(bits(two[i]), `${NAMES[i]} ${what}`).toEqual(bits(three[i]));
          }
        }
      } finally {
        setKernelPaths(gpu, before);
      }
    }
    // …and the backward is two dispatches (three with the prep kernel).
    const s: AttentionShape = { batch: 2, seq: 33, heads: 4, kvHeads: 2, dQK: 20, dV: 12, scale: 1 / Math.sqrt(20) };
    const sh = attentionShapes(s);
    const x = randomInputs(s, 1);
    const [q, k, v, dO] = [
      gpu.fromArray(x.q, sh.q),
      gpu.fromArray(x.k, sh.k),
      gpu.fromArray(x.v, sh.v),
      gpu.fromArray(x.dO, sh.o),
    ];
    const { o, lse } = gpu.attention(q, k, v, s);
    for (const [separate, n] of [
      [false, 2],
      [true, 3],
    ] as const) {
      setAttentionSeparatePrep(separate);
      await gpu.rt.flush();
      const d0 = gpu.rt.dispatches;
      gpu.attentionBackward(q, k, v, o, lse, dO, s);
      await gpu.rt.flush();
      expect(gpu.rt.dispatches - d0, `separate prep: ${separate}`).toBe(n);
    }
  });

  it('head dims below 32: the narrow lane columns (forward and backward) give the bits of the wide ones', async () => {
    const gpu = await gpuBackend();
    const bits = (a: Float64Array) => Array.from(new Uint32Array(Float32Array.from(a).buffer));
    let seed = 90;
    for (const T of [7, 33, 130])
      for (const [dQK, dV, heads, kvHeads] of [
        [16, 16, 4, 4],
        [24, 16, 4, 2],
        [12, 9, 2, 1],
      ]) {
        const s: AttentionShape = { batch: 2, seq: T, heads, kvHeads, dQK, dV, scale: 1 / Math.sqrt(dQK) };
        const what = `T=${T} dQK=${dQK} dV=${dV} H=${heads} Hkv=${kvHeads}`;
        const x = randomInputs(s, seed++);
        expect(attentionTile(gpu, 'dkdv', dQK, dV).cols, what).toBeLessThanOrEqual(16);
        if (dQK <= 16 && dV <= 16) expect(attentionTile(gpu, 'fwd', dQK, dV).overrides.NC, what).toBe(4);
        const narrow = await runAll(gpu, s, x);
        setAttentionNarrowLanes(false);
        try {
          expect(attentionTile(gpu, 'dkdv', dQK, dV).cols, what).toBe(32);
          const wide = await runAll(gpu, s, x);
          for (let i = 0; i < NAMES.length; i++) expect(bits(narrow[i]), `${NAMES[i]} ${what}`).toEqual(bits(wide[i]));
        } finally {
          setAttentionNarrowLanes(true);
        }
      }
  });

  it('reports the tilings used for common head dims', async () => {
    const gpu = await gpuBackend();
    for (const [dQK, dV] of [
      [8, 8],
      [32, 32],
      [48, 32],
      [64, 64],
      [128, 128],
    ]) {
      const line = (['fwd', 'dq', 'dkdv'] as const)
        .map((kind) => {
          const t = attentionTile(gpu, kind, dQK, dV);
          return `${kind} ${t.rows}x${t.cols} ${t.threads}thr ${t.bytes}B`;
        })
        .join(' | ');
      console.log(
        `[attention] device limit ${gpu.rt.limits.maxComputeWorkgroupStorageSize} B, dQK=${dQK} dV=${dV}: ${line}`,
      );
    }
  });
});
