// The sampler and speculative-decoding ops — samplingProbs, sampleCategorical, tokenLogprob,
// specResidual, specAccept — beyond their op checks (src/check/ops.test.ts): the checks' case
// sizes, exact kept sets, bit-exact determinism, a chi-square test of the GPU sampler, and the
// greedy limits of top-k = 1 and a tiny top-p.
import { describe, expect, it } from 'vitest';
import { sampleChecks } from '../check/sample';
import { Rng } from '../engine/rng';
import type { Tensor } from '../engine/tensor';
import { cpu, gpuBackend } from '../test/gpu';

function argmaxRows(x: ArrayLike<number>, R: number, V: number): number[] {
  return Array.from({ length: R }, (_, r) => {
    let best = 0;
    for (let i = 1; i < V; i++) if (x[r * V + i] > x[r * V + best]) best = i;
    return best;
  });
}

/** Continuous random logits as f32 values (no ties with probability ≈ 1). */
function logitsF32(seed: number, n: number, std = 2): Float64Array {
  return new Rng(seed).normalArray(n, std).map((v) => Math.fround(v));
}

describe('sampling ops: GPU vs CPU reference', () => {
  it('the op checks reach both long-row variants (V ≈ 5000, a few hundred) within their cases per seed', () => {
    for (const check of sampleChecks) {
      const rng = new Rng(1);
      const vs = Array.from({ length: check.cases ?? 3 }, (_, i) =>
        Number(/V=(\d+)/.exec(check.makeCase(rng, i).desc)![1]),
      );
      expect(
        vs.some((v) => v >= 4900 && v <= 5100),
        `${check.name}: V = ${vs}`,
      ).toBe(true);
      expect(
        vs.some((v) => v >= 200 && v <= 600),
        `${check.name}: V = ${vs}`,
      ).toBe(true);
    }
  });

  it('samplingProbs keeps exactly the reference support (kept sets match element for element)', async () => {
    const gpu = await gpuBackend();
    const check = sampleChecks.find((c) => c.name === 'samplingProbs')!;
    let compared = 0;
    for (const seed of [1, 2, 3, 4]) {
      const rng = new Rng(1000 + seed);
      for (let i = 0; i < 6; i++) {
        const c = check.makeCase(rng, i);
        const [pc] = c.forward(
          cpu,
          c.inputs.map((h) => cpu.fromArray(h.data, h.shape, h.dtype)),
        );
        const xg = c.inputs.map((h) => gpu.fromArray(h.data, h.shape, h.dtype));
        const [pg] = c.forward(gpu, xg);
        const a = await pc.read();
        const b = await pg.read();
        let mismatch = 0;
        for (let j = 0; j < a.length; j++) if (a[j] > 0 !== b[j] > 0) mismatch++;
        expect(mismatch, `${c.desc}: ${mismatch} support mismatches`).toBe(0);
        compared += a.length;
        pg.dispose();
        xg.forEach((t) => {
          t.dispose();
        });
      }
    }
    expect(compared).toBeGreaterThan(10_000);
  });
});

describe('sampling ops: targeted', () => {
  it('are bit-identical run to run (V = 5003, top-k and top-p on)', async () => {
    const gpu = await gpuBackend();
    const R = 3;
    const V = 5003;
    const logits = gpu.fromArray(logitsF32(5, R * V), [R, V]);
    const u = gpu.fromArray([0.1, 0.5, 0.93], [R]);
    const ids = gpu.fromArray([0, 17, V - 1], [R], 'i32');
    const runs: Array<Array<Float64Array | Int32Array>> = [];
    for (let k = 0; k < 2; k++) {
      const probs = gpu.samplingProbs(logits, 0.9, 200, 0.8);
      const full = gpu.samplingProbs(logits, 1.1, 0, 1);
      const draw = gpu.sampleCategorical(full, u);
      const lp = gpu.tokenLogprob(logits, ids, 0.7);
      runs.push([await probs.read(), await full.read(), await draw.read(), await lp.read()]);
      [probs, full, draw, lp].forEach((t) => {
        t.dispose();
      });
    }
    for (let i = 0; i < runs[0].length; i++) expect(Array.from(runs[1][i])).toEqual(Array.from(runs[0][i]));
    [logits, u, ids].forEach((t) => {
      t.dispose();
    });
  });

  it('sampleCategorical on the GPU reproduces the distribution (chi-square, seeded)', async () => {
    // N draws from one distribution over V = 40 (GPU samplingProbs of fixed logits at T = 1,
    // top-k 30: ten exact zeros), with N uniforms from a seeded stream: the histogram must pass
    // Pearson's chi-square test at significance 1e-3 (bins with expected count < 5 pooled), and
    // the zero-probability columns must never be drawn.
    const gpu = await gpuBackend();
    const N = 4000;
    const V = 40;
    const row = logitsF32(21, V, 1.5);
    const logits = gpu.fromArray(
      Array.from({ length: N * V }, (_, i) => row[i % V]),
      [N, V],
    );
    const probs = gpu.samplingProbs(logits, 1, 30, 1);
    const rng = new Rng(22);
    const u = gpu.fromArray(
      Array.from({ length: N }, () => rng.next()),
      [N],
    );
    const draws = (await gpu.sampleCategorical(probs, u).read()) as Int32Array;
    const p = Array.from((await probs.read()).subarray(0, V));
    const counts = new Array<number>(V).fill(0);
    for (const d of draws) counts[d]++;
    for (let i = 0; i < V; i++) if (p[i] === 0) expect(counts[i], `column ${i} has p = 0`).toBe(0);
    expect(p.filter((v) => v === 0).length).toBe(10);
    // Pool small bins (expected < 5) into one.
    let chi2 = 0;
    let bins = 0;
    let poolE = 0;
    let poolO = 0;
    for (let i = 0; i < V; i++) {
      if (p[i] === 0) continue;
      const e = N * p[i];
      if (e < 5) {
        poolE += e;
        poolO += counts[i];
      } else {
        chi2 += (counts[i] - e) ** 2 / e;
        bins++;
      }
    }
    if (poolE > 0) {
      chi2 += (poolO - poolE) ** 2 / poolE;
      bins++;
    }
    // Critical value at p = 1e-3 by the Wilson–Hilferty approximation (z = 3.09).
    const df = bins - 1;
    const crit = df * (1 - 2 / (9 * df) + 3.09 * Math.sqrt(2 / (9 * df))) ** 3;
    console.log(`[chi2] ${chi2.toFixed(2)} on ${df} df (critical ${crit.toFixed(2)} at 1e-3)`);
    expect(chi2).toBeLessThan(crit);
    [logits, probs, u].forEach((t) => {
      t.dispose();
    });
  });

  it('top-k = 1 equals greedy: one-hot at the argmax (and all tied maxima kept when tied)', async () => {
    const gpu = await gpuBackend();
    const R = 5;
    const V = 301;
    const x = logitsF32(31, R * V);
    const logits = gpu.fromArray(x, [R, V]);
    const top1 = await gpu.samplingProbs(logits, 0.8, 1, 1).read();
    const greedy = await gpu.samplingProbs(logits, 0, 0, 1).read();
    expect(Array.from(top1)).toEqual(Array.from(greedy));
    const am = argmaxRows(x, R, V);
    for (let r = 0; r < R; r++) expect(top1[r * V + am[r]]).toBe(1);
    const u = gpu.fromArray([0, 0.3, 0.5, 0.7, 0.99], [R]);
    expect(Array.from(await gpu.sampleCategorical(gpu.samplingProbs(logits, 1.3, 1, 1), u).read())).toEqual(am);
    // Tied maxima: greedy takes the lowest index; top-k = 1 keeps every tied maximum.
    const tied = x.slice(0, V);
    tied[7] = tied[200] = tied[250] = 10;
    const t = gpu.fromArray(tied, [1, V]);
    const g = await gpu.samplingProbs(t, 0, 0, 1).read();
    expect(g[7]).toBe(1);
    expect(Array.from(g).reduce((a, b) => a + b, 0)).toBe(1);
    const k1 = await gpu.samplingProbs(t, 1, 1, 1).read();
    for (let i = 0; i < V; i++) expect(k1[i]).toBeCloseTo([7, 200, 250].includes(i) ? 1 / 3 : 0, 6);
    expect(Array.from(await cpu.samplingProbs(cpu.fromArray(tied, [1, V]), 1, 1, 1).read()).map((v) => v > 0)).toEqual(
      Array.from(k1).map((v) => v > 0),
    );
    [logits, u, t].forEach((tt) => {
      tt.dispose();
    });
  });

  it('a tiny top-p equals greedy', async () => {
    const gpu = await gpuBackend();
    const R = 4;
    const V = 777;
    const x = logitsF32(41, R * V, 1);
    const logits = gpu.fromArray(x, [R, V]);
    const greedy = Array.from(await gpu.samplingProbs(logits, 0, 0, 1).read());
    for (const T of [0.5, 1, 1.5]) {
      const tiny = Array.from(await gpu.samplingProbs(logits, T, 0, 1e-6).read());
      expect(tiny).toEqual(greedy);
    }
    const am = argmaxRows(x, R, V);
    const u = gpu.fromArray([0.2, 0.4, 0.6, 0.95], [R]);
    expect(Array.from(await gpu.sampleCategorical(gpu.samplingProbs(logits, 1, 0, 1e-6), u).read())).toEqual(am);
    logits.dispose();
    u.dispose();
  });

  it('edge rows: V = 1, all-zero weights, u = 0, tokenLogprob at T = 0', async () => {
    const gpu = await gpuBackend();
    const one = gpu.fromArray([3, -2], [2, 1]);
    expect(Array.from(await gpu.samplingProbs(one, 0.7, 0, 0.5).read())).toEqual([1, 1]);
    expect(Array.from(await gpu.tokenLogprob(one, gpu.fromArray([0, 0], [2], 'i32'), 0).read())).toEqual([0, 0]);
    const w = gpu.fromArray([0, 0, 0, 0, /**/ 0, 0, 2, 1, /**/ 0, 1, 0, 0], [3, 4]);
    const draws = await gpu.sampleCategorical(w, gpu.fromArray([0.5, 0, 0.99], [3])).read();
    expect(Array.from(draws)).toEqual([0, 2, 1]);
    const lg = logitsF32(51, 2 * 50);
    const ids: Tensor = gpu.fromArray([3, 49], [2], 'i32');
    const a = await gpu.tokenLogprob(gpu.fromArray(lg, [2, 50]), ids, 0).read();
    const b = await gpu.tokenLogprob(gpu.fromArray(lg, [2, 50]), ids, 1).read();
    expect(Array.from(a)).toEqual(Array.from(b));
  });
});
