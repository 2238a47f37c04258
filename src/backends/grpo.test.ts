// GRPO's token objective (grpoLoss, grpoLossBackward) beyond its op check (src/check/ops.test.ts):
// the spec's k3 reference value, zero gradient exactly on clipped tokens (and r·A on the unclipped
// branches), the stats counts, padding that holds garbage, N = 0, bit-identical reruns at N = 10⁶,
// and the taped wrapper in engine/ops.ts.
import { describe, expect, it } from 'vitest';
import { grpoInputs } from '../check/grpo';
import { relErr } from '../check/harness';
import type { Backend, GrpoHyper } from '../engine/backend';
import { grpoLoss as grpoLossOp } from '../engine/ops';
import { Rng } from '../engine/rng';
import { Tape } from '../engine/tape';
import { cpu, gpuBackend } from '../test/gpu';

const fmt = (x: number | null) => (x === null ? '-' : x.toExponential(2));

interface Host {
  lp: ArrayLike<number>;
  old: ArrayLike<number>;
  ref: ArrayLike<number>;
  adv: ArrayLike<number>;
  w: ArrayLike<number>;
}

/** Forward and backward (dLoss given) on one backend, read back to the host. */
async function run(
  be: Backend,
  h: Host,
  hp: GrpoHyper,
  dLoss = 1,
): Promise<{ loss: number; stats: number[]; dlp: Float64Array }> {
  const N = h.lp.length;
  const xs = [h.lp, h.old, h.ref, h.adv, h.w].map((a) => be.fromArray(a, [N]));
  const [lp, old, ref, adv, w] = xs;
  const { loss, stats } = be.grpoLoss(lp, old, ref, adv, w, hp);
  const dl = be.fromArray([dLoss], [1]);
  const dlp = be.grpoLossBackward(lp, old, ref, adv, w, hp, dl);
  const out = {
    loss: (await loss.read())[0],
    stats: Array.from(await stats.read()),
    dlp: (await dlp.read()) as Float64Array,
  };
  for (const t of [...xs, loss, stats, dl, dlp]) t.dispose();
  return out;
}

describe('grpoLoss: targeted', () => {
  it('k3(logπ = −1, logπ_ref = −1.2) = 0.0187308 (spec §5 reference value)', async () => {
    const gpu = await gpuBackend();
    // One token, A = 0 (no surrogate), w = 1, β = 1: loss = −(0 − k3) = k3, stats[1] = k3.
    const h: Host = { lp: [-1], old: [-1], ref: [-1.2], adv: [0], w: [1] };
    const hp = { epsLow: 0.2, epsHigh: 0.28, beta: 1 };
    const exact = Math.exp(-0.2) + 0.2 - 1;
    expect(exact).toBeCloseTo(0.0187308, 7);
    for (const [be, tol] of [
      [cpu, 1e-12],
      [await gpuBackend(), 1e-7],
    ] as const) {
      const o = await run(be, h, hp);
      expect(Math.abs(o.loss - exact), `${be.name} loss ${o.loss}`).toBeLessThan(tol);
      expect(Math.abs(o.stats[1] - exact), `${be.name} Σk3 ${o.stats[1]}`).toBeLessThan(tol);
      expect(o.stats[1]).toBeCloseTo(0.0187308, 7);
      // dk3/dlp = 1 − exp(ref − lp) = 1 − e^−0.2; dloss/dlp = β·that.
      expect(Math.abs(o.dlp[0] - (1 - Math.exp(-0.2)))).toBeLessThan(tol);
    }
    // k3 of tiny log-ratios keeps its relative accuracy on the GPU (no cancellation).
    const tiny = await run(gpu, { lp: [-1], old: [-1], ref: [-1 + 2 ** -12], adv: [0], w: [1] }, hp);
    const d = 2 ** -12;
    expect(Math.abs(tiny.stats[1] - (Math.expm1(d) - d)) / ((d * d) / 2)).toBeLessThan(1e-5);
  });

  it('clipped tokens get exactly zero gradient; the other branches get −w·r·A', async () => {
    const gpu = await gpuBackend();
    const hp = { epsLow: 0.2, epsHigh: 0.28, beta: 0 };
    const up = Math.log(1.5); // r = 1.5 > 1.28
    const down = Math.log(0.6); // r = 0.6 < 0.8
    const mid = Math.log(1.1); // r = 1.1 inside
    // (A > 0, r high) clipped; (A < 0, r low) clipped; (A > 0, r low), (A < 0, r high), (A > 0, r inside) not.
    const h: Host = {
      lp: [up, down, down, up, mid],
      old: [0, 0, 0, 0, 0],
      ref: [0.1, -0.3, 0.2, 0.05, -0.1],
      adv: [1.3, -0.7, 0.9, -1.1, 0.5],
      w: [0.5, 2, 0.25, 1, 0.75],
    };
    const r = [1.5, 0.6, 0.6, 1.5, 1.1];
    const expected = r.map((ri, t) => (t < 2 ? 0 : -Number(h.w[t]) * ri * Number(h.adv[t])));
    // s per token: clipped ones use the clamped ratio.
    const s = [1.28 * 1.3, 0.8 * -0.7, 0.6 * 0.9, 1.5 * -1.1, 1.1 * 0.5];
    const loss = -s.reduce((acc, v, t) => acc + Number(h.w[t]) * v, 0);
    for (const be of [cpu, gpu]) {
      const o = await run(be, h, hp);
      // Exactly zero (either sign: −dLoss·w·0).
      expect(Math.abs(o.dlp[0]), be.name).toBe(0);
      expect(Math.abs(o.dlp[1]), be.name).toBe(0);
      for (let t = 2; t < 5; t++) expect(o.dlp[t], `${be.name} token ${t}`).toBeCloseTo(expected[t], 5);
      expect(o.loss, be.name).toBeCloseTo(loss, 5);
      expect(o.stats[0], be.name).toBe(2);
      // With β > 0 a clipped token keeps only the KL part of its gradient: −w·(−β·(1 − e^(ref − lp))).
      const beta = 0.04;
      const o2 = await run(be, h, { ...hp, beta }, 2);
      const kl0 = -2 * 0.5 * (-beta * (1 - Math.exp(0.1 - up)));
      expect(o2.dlp[0], be.name).toBeCloseTo(kl0, 6);
      expect(o2.dlp[0]).not.toBe(0);
    }
  });

  it('stats count clipped tokens, Σk3 and tokens over w > 0 only; padding may hold garbage', async () => {
    const gpu = await gpuBackend();
    const hp = { epsLow: 0.2, epsHigh: 0.2, beta: 0.04 };
    const up = Math.log(1.5);
    // Tokens 0..2 have w > 0 (token 0 clipped); 3 would be clipped but is padding (w = 0);
    // 4 is padding holding non-finite log-probs, which must not poison the sums or gradients.
    const h: Host = {
      lp: [up, 0.05, -0.1, up, Infinity],
      old: [0, 0, 0, 0, 0],
      ref: [0.2, 0, 0.1, 0.3, NaN],
      adv: [1, -1, 2, 1, 1],
      w: [1, 0.5, 0.5, 0, 0],
    };
    const k3 = (t: number) => {
      const d = Number(h.ref[t]) - Number(h.lp[t]);
      return Math.expm1(d) - d;
    };
    const k3sum = k3(0) + k3(1) + k3(2);
    const ref = await run(cpu, h, hp);
    expect(ref.stats[0]).toBe(1);
    expect(ref.stats[1]).toBeCloseTo(k3sum, 12);
    expect(ref.stats[2]).toBe(3);
    const g = await run(gpu, h, hp);
    expect(g.stats[0]).toBe(1);
    expect(g.stats[2]).toBe(3);
    expect(Math.abs(g.stats[1] - k3sum) / k3sum).toBeLessThan(1e-6);
    expect(Number.isFinite(g.loss)).toBe(true);
    expect(Math.abs(g.loss - ref.loss) / Math.abs(ref.loss)).toBeLessThan(1e-6);
    expect(Math.abs(g.dlp[3])).toBe(0);
    expect(Math.abs(g.dlp[4])).toBe(0);
    expect(relErr(g.dlp, ref.dlp)).toBeLessThan(1e-6);
  });

  it('N = 0 gives loss 0 and zero stats', async () => {
    const gpu = await gpuBackend();
    const hp = { epsLow: 0.2, epsHigh: 0.28, beta: 0.04 };
    for (const be of [cpu, gpu]) {
      const o = await run(be, { lp: [], old: [], ref: [], adv: [], w: [] }, hp);
      // Zero of either sign (WGSL does not promise to keep the sign of a zero).
      expect(Math.abs(o.loss)).toBe(0);
      expect(o.stats.map(Math.abs)).toEqual([0, 0, 0]);
      expect(o.dlp.length).toBe(0);
    }
  });

  it('N = 10⁶: bit-identical reruns, close to the float64 reference', async () => {
    const gpu = await gpuBackend();
    const hp = { epsLow: 0.2, epsHigh: 0.28, beta: 0.04 };
    const N = 1_000_000;
    const h = grpoInputs(new Rng(9), N, hp);
    const t0 = performance.now();
    const a = await run(gpu, h, hp, 0.7);
    const ms = performance.now() - t0;
    const b = await run(gpu, h, hp, 0.7);
    expect(Object.is(a.loss, b.loss)).toBe(true);
    expect(b.stats).toEqual(a.stats);
    expect(b.dlp.every((v, i) => Object.is(v, a.dlp[i]))).toBe(true);
    const c = await run(cpu, h, hp, 0.7);
    const lossErr = Math.abs(a.loss - c.loss) / Math.abs(c.loss);
    const statsErr = relErr(a.stats, c.stats);
    const gradErr = relErr(a.dlp, c.dlp);
    console.log(
      `[N=1e6] loss ${c.loss.toFixed(3)} rel err ${fmt(lossErr)}; stats [${a.stats.join(', ')}] err ${fmt(statsErr)}; grad err ${fmt(gradErr)}; GPU fwd+bwd+read ${ms.toFixed(0)} ms`,
    );
    expect(a.stats[0]).toBe(c.stats[0]);
    expect(a.stats[2]).toBe(c.stats[2]);
    expect(lossErr).toBeLessThan(5e-5);
    expect(statsErr).toBeLessThan(1e-5);
    expect(gradErr).toBeLessThan(1e-5);
  });

  it('ops.grpoLoss: taped gradient for lp equals the backend backward; shapes validated', async () => {
    const gpu = await gpuBackend();
    const hp = { epsLow: 0.2, epsHigh: 0.28, beta: 0.04 };
    const h = grpoInputs(new Rng(4), 50, hp);
    for (const be of [cpu, gpu]) {
      const [lp, old, ref, adv, w] = [h.lp, h.old, h.ref, h.adv, h.w].map((x) => be.fromArray(x, [50]));
      lp.requiresGrad = true;
      const tape = new Tape();
      const { loss, stats } = tape.run(() => grpoLossOp(lp, old, ref, adv, w, hp));
      expect(stats.shape).toEqual([3]);
      const grads = tape.backward(loss);
      const viaTape = await grads.get(lp.id)!.read();
      const direct = await be.grpoLossBackward(lp, old, ref, adv, w, hp, be.fromArray([1], [1])).read();
      expect(Array.from(viaTape)).toEqual(Array.from(direct));
      expect(grads.has(old.id)).toBe(false);
      expect(() => grpoLossOp(lp, be.zeros([49]), ref, adv, w, hp)).toThrow(/grpoLoss: old is \[49\], expected \[50\]/);
      expect(() => grpoLossOp(be.view(lp, [5, 10]), old, ref, adv, w, hp)).toThrow(/grpoLoss: lp must be \[N\]/);
      expect(() => grpoLossOp(lp, old, ref, adv, be.zeros([50], 'i32'), hp)).toThrow(/expected f32/);
      expect(() => grpoLossOp(lp, old, ref, adv, w, { ...hp, epsHigh: -0.1 })).toThrow(/epsHigh/);
    }
  });
});
