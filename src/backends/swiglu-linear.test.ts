// An FFN's down projection with its SwiGLU gate folded into the GEMM (Backend.swigluLinear and
// its backward; shaders/matmul_operands.wgsl's SwiGLU variants). The claim the model relies on is
// bit-identity with the unfused pair — swiglu then the linear, and the linear's dX/dW then
// swigluBackward — on the scalar and the vec4 path, with and without a base and an earlier dW,
// in one dispatch each way; shapes whose products matmul would split over K take the unfused path
// and still match. At the op level, the tape gives the unfused graph's gradients bit for bit.
// The same for the routed experts' down projection (Backend.moeExpertsSwiglu: the grouped GEMM
// templates' SwiGLU variants), against swiglu + moeGroupedMatmul / moeGroupedGrads.
import { describe, expect, it } from 'vitest';
import { hostPlan, randomIdx } from '../check/moe_dispatch';
import type { MoePlan } from '../engine/backend';
import * as op from '../engine/ops';
import { Rng } from '../engine/rng';
import { Tape } from '../engine/tape';
import type { Tensor } from '../engine/tensor';
import { cpu, gpuBackend } from '../test/gpu';

const bits = async (t: Tensor) => Array.from(new Uint32Array(new Float32Array(await t.read()).buffer));

describe('swigluLinear', () => {
  // [rows, F, out, dispatches forward, backward]: scalar path, vec4 path, a long F (the
  // forward's product splits over K: swiglu + matmul + split-K sum), many rows (dW splits: the
  // fused dh, then swiglu, dW's GEMM and its split-K sum).
  const shapes: Array<[number, number, number, number, number]> = [
    [7, 33, 130, 1, 1],
    [64, 96, 36, 1, 1],
    [24, 1100, 20, 3, 1],
    [1100, 24, 20, 1, 4],
  ];
  for (const [rows, F, out, nFwd, nBwd] of shapes) {
    it(`equals the unfused pair bit for bit: rows=${rows} F=${F} out=${out}`, async () => {
      const gpu = await gpuBackend();
      const rng = new Rng(rows + F + out);
      const up = (n: number, s: number[], std = 1) => gpu.fromArray(rng.normalArray(n, std), s);
      const g = up(rows * F, [rows, F], 3);
      const u = up(rows * F, [rows, F]);
      const w = up(out * F, [out, F], 1 / Math.sqrt(F));
      const dy = up(rows * out, [rows, out]);
      for (const withAcc of [false, true]) {
        const base = withAcc ? up(rows * out, [rows, out]) : null;
        const accW = withAcc ? up(out * F, [out, F]) : null;
        const what = `rows=${rows} F=${F} out=${out} acc=${withAcc}`;
        await gpu.rt.flush();
        let before = gpu.rt.dispatches;
        const y = gpu.swigluLinear(g, u, w, base);
        await gpu.rt.flush();
        expect(gpu.rt.dispatches - before, `${what}: forward dispatches`).toBe(nFwd + (withAcc && nFwd > 1 ? 1 : 0));
        before = gpu.rt.dispatches;
        const r = gpu.swigluLinearBackward(g, u, w, dy, accW, true);
        await gpu.rt.flush();
        expect(gpu.rt.dispatches - before, `${what}: backward dispatches`).toBe(nBwd + (withAcc && nBwd > 1 ? 1 : 0));

        const h = gpu.swiglu(g, u);
        const yRef = gpu.matmuls([{ a: h, b: w, opts: { transB: true }, acc: base }])[0];
        const [dh, dwRef] = gpu.matmuls([
          { a: dy, b: w, opts: {} },
          { a: dy, b: h, opts: { transA: true }, acc: accW },
        ]);
        const ref = gpu.swigluBackward(g, u, dh);
        expect(await bits(y), `${what}: y`).toEqual(await bits(yRef));
        expect(await bits(r.dg), `${what}: dg`).toEqual(await bits(ref.dg));
        expect(await bits(r.du), `${what}: du`).toEqual(await bits(ref.du));
        expect(await bits(r.dw as Tensor), `${what}: dW`).toEqual(await bits(dwRef));
      }
    });
  }

  it('without the weight gradient: dg and du only, one dispatch', async () => {
    const gpu = await gpuBackend();
    const rng = new Rng(3);
    const [rows, F, out] = [12, 20, 8];
    const g = gpu.fromArray(rng.normalArray(rows * F, 3), [rows, F]);
    const u = gpu.fromArray(rng.normalArray(rows * F), [rows, F]);
    const w = gpu.fromArray(rng.normalArray(out * F), [out, F]);
    const dy = gpu.fromArray(rng.normalArray(rows * out), [rows, out]);
    await gpu.rt.flush();
    const before = gpu.rt.dispatches;
    const r = gpu.swigluLinearBackward(g, u, w, dy, null, false);
    await gpu.rt.flush();
    expect(gpu.rt.dispatches - before).toBe(1);
    expect(r.dw).toBeNull();
    const ref = gpu.swigluBackward(g, u, gpu.matmul(dy, w, {}));
    expect(await bits(r.dg)).toEqual(await bits(ref.dg));
    expect(await bits(r.du)).toEqual(await bits(ref.du));
  });

  it("op.swigluLinear: the unfused graph's outputs and gradients, base included", async () => {
    const gpu = await gpuBackend();
    const rng = new Rng(11);
    const [B, T, d, F] = [2, 5, 12, 20];
    const input = (shape: number[], std = 1) => {
      const t = gpu.fromArray(
        rng.normalArray(
          shape.reduce((a, b) => a * b, 1),
          std,
        ),
        shape,
      );
      t.requiresGrad = true;
      return t;
    };
    const [x, wg, wu, wd, base] = [input([B, T, d]), input([F, d]), input([F, d]), input([d, F]), input([B, T, d])];
    const probe = gpu.fromArray(rng.normalArray(B * T * d), [B, T, d]);
    const run = async (fused: boolean) => {
      const tape = new Tape();
      const y = tape.run(() => {
        const [g, u] = op.linears(x, [wg, wu]);
        return fused ? op.swigluLinear(g, u, wd, base) : op.linearAdd(op.swiglu(g, u), wd, base);
      });
      // wd read a second time after the FFN: its gathered gradient is folded into dW's GEMM.
      const loss = tape.run(() => op.add(op.sum(op.mul(y, probe)), op.sum(op.mul(wd, wd))));
      const grads = tape.backward(loss);
      return Promise.all([y, ...[x, wg, wu, wd, base].map((t) => grads.get(t.id) as Tensor)].map(bits));
    };
    expect(await run(true)).toEqual(await run(false));
  });

  it('names bad input', () => {
    const g = cpu.zeros([4, 8]);
    expect(() => op.swigluLinear(g, cpu.zeros([4, 7]), cpu.zeros([3, 8]))).toThrow(
      /swigluLinear: g \[4, ?8\] and u \[4, ?7\] differ/,
    );
    expect(() => op.swigluLinear(g, g, cpu.zeros([3, 7]))).toThrow(/swigluLinear: weight \[3, ?7\] is not \[out, 8\]/);
    expect(() => op.swigluLinear(g, g, cpu.zeros([3, 8]), cpu.zeros([4, 4]))).toThrow(
      /swigluLinear: base \[4, ?4\] is not the output's shape \[4, ?3\]/,
    );
  });
});

describe('moeExpertsSwiglu', () => {
  // [N, K, E, F, out, backward dispatches]: ragged widths; a long segment whose weight gradient
  // splits (the unfused kernels: moeGroupedMatmul, swiglu, the split weight gradient and its sum,
  // swigluBackward).
  const cases: Array<[number, number, number, number, number, number]> = [
    [13, 2, 4, 33, 20, 1],
    [700, 2, 2, 24, 16, 5],
  ];
  for (const [N, K, E, F, out, nBwd] of cases) {
    it(`equals swiglu + the grouped kernels bit for bit: N=${N} K=${K} E=${E} F=${F} out=${out}`, async () => {
      const gpu = await gpuBackend();
      const rng = new Rng(N + F);
      const M = N * K;
      const p = hostPlan(
        randomIdx(
          rng,
          N,
          K,
          Array.from({ length: E }, (_, e) => e),
        ),
        E,
      );
      const plan: MoePlan = {
        offsets: gpu.fromArray(p.offsets, [E + 1], 'i32'),
        slotAssign: gpu.fromArray(p.slotAssign, [M], 'i32'),
        assignSlot: gpu.fromArray(p.assignSlot, [M], 'i32'),
      };
      const g = gpu.fromArray(rng.normalArray(M * F, 3), [M, F]);
      const u = gpu.fromArray(rng.normalArray(M * F), [M, F]);
      const w = gpu.fromArray(rng.normalArray(E * out * F), [E, out, F]);
      const dy = gpu.fromArray(rng.normalArray(M * out), [M, out]);
      await gpu.rt.flush();
      let before = gpu.rt.dispatches;
      const y = gpu.moeExpertsSwiglu(g, u, w, plan);
      await gpu.rt.flush();
      expect(gpu.rt.dispatches - before, 'forward dispatches').toBe(1);
      before = gpu.rt.dispatches;
      const r = gpu.moeExpertsSwigluBackward(dy, g, u, w, plan, true);
      await gpu.rt.flush();
      expect(gpu.rt.dispatches - before, 'backward dispatches').toBe(nBwd);

      const h = gpu.swiglu(g, u);
      const ref = gpu.moeGroupedGrads(dy, h, w, plan, null, { dx: true, dw: true });
      const gate = gpu.swigluBackward(g, u, ref.dx as Tensor);
      expect(await bits(y)).toEqual(await bits(gpu.moeGroupedMatmul(h, w, plan, true)));
      expect(await bits(r.dg)).toEqual(await bits(gate.dg));
      expect(await bits(r.du)).toEqual(await bits(gate.du));
      expect(await bits(r.dw as Tensor)).toEqual(await bits(ref.dw as Tensor));
    });
  }

  it('names bad input', () => {
    const plan = { offsets: cpu.zeros([3]), slotAssign: cpu.zeros([4]), assignSlot: cpu.zeros([4]) } as MoePlan;
    expect(() => op.moeExpertsSwiglu(cpu.zeros([4, 8]), cpu.zeros([4, 7]), cpu.zeros([2, 3, 8]), plan)).toThrow(
      /moeExpertsSwiglu: g \[4, ?8\] and u \[4, ?7\] are not one \[M, F\] shape/,
    );
    expect(() => op.moeExpertsSwiglu(cpu.zeros([4, 8]), cpu.zeros([4, 8]), cpu.zeros([2, 3, 7]), plan)).toThrow(
      /moeExpertsSwiglu: weights \[2, ?3, ?7\] do not take inputs \[4, ?8\]/,
    );
  });
});
