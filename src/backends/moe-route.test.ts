// The MoE routing family (sigmoid, moeRoute/moeRouteBackward, moePlan, moeBiasUpdate) beyond its op
// checks (src/check/ops.test.ts): the bias update rule on hand-made loads, a bias that changes the
// selection but not the weights' source scores, group-limited selection and tie-breaking by hand,
// GPU idx bit-identical to the CPU's on 2000 rows full of exact ties, a large plan (many chunks,
// carries across scan tiles), the one-workgroup plan against the four-pass one, plan determinism,
// a stable sigmoid, and the gate fused with the routing (moeRouteSigmoid and its backward: the
// bits of the unfused ops, one dispatch each way).
import { describe, expect, it } from 'vitest';
import type { Backend, RouteConfig } from '../engine/backend';
import { Rng } from '../engine/rng';
import type { Tensor } from '../engine/tensor';
import { cpu, gpuBackend } from '../test/gpu';
import { moePlan as moePlanWith, planPath } from './webgpu/moe_route';

const _fmt = (x: number | null) => (x === null ? '-' : x.toExponential(2));

async function backends(): Promise<Array<[string, Backend]>> {
  return [
    ['cpu', cpu],
    ['webgpu', await gpuBackend()],
  ];
}

async function ints(t: { read(): Promise<Float64Array | Int32Array> }): Promise<number[]> {
  return Array.from(await t.read());
}

describe('loss-free bias update', () => {
  it('moeBiasUpdates: the bits of moeBiasUpdate per layer in order, several layers per dispatch', async () => {
    const gpu = await gpuBackend();
    const rng = new Rng(17);
    // 11 layers (more than one dispatch holds), E = 16 and a ragged E = 70 in between, and a layer
    // that appears twice (a layer run twice in a step is updated twice, in order).
    const Es = [16, 16, 16, 70, 16, 16, 16, 16, 16, 16, 16];
    const make = (E: number) => {
      const M = rng.int(1, 300);
      const counts = Array.from({ length: E }, () => 0);
      for (let a = 0; a < M; a++) counts[rng.int(0, E - 1)]++;
      const off = [0];
      for (const c of counts) off.push(off[off.length - 1] + c);
      return { b: rng.normalArray(E, 0.01), off };
    };
    const layers = Es.map(make);
    const order = [...layers.keys(), 2];
    const offs = order.map((i) => make(Es[i]));
    const run = (many: boolean) => {
      const biases = layers.map((l) => gpu.fromArray(l.b, [l.b.length]));
      const offsets = order.map((i, k) => gpu.fromArray(offs[k].off, [Es[i] + 1], 'i32'));
      const p0 = gpu.rt.pendingDispatches;
      if (many)
        gpu.moeBiasUpdates(
          order.map((i) => biases[i]),
          offsets,
          0.003,
        );
      else for (const [k, i] of order.entries()) gpu.moeBiasUpdate(biases[i], offsets[k], 0.003);
      return { biases, dispatches: gpu.rt.pendingDispatches - p0 };
    };
    const many = run(true);
    const one = run(false);
    // Dispatches: layers 0–2 (E = 16), layer 3 (E = 70), then layers 4–10 and layer 2's second
    // update (8, the most one dispatch takes; layer 2 is not yet in that group).
    expect(one.dispatches).toBe(12);
    if (gpu.rt.limits.maxStorageBuffersPerShaderStage >= 16) expect(many.dispatches).toBe(3);
    else expect(many.dispatches).toBeLessThan(12);
    for (const [i, b] of many.biases.entries()) {
      const want = new Uint32Array(Float32Array.from(await one.biases[i].read()).buffer);
      expect(Array.from(new Uint32Array(Float32Array.from(await b.read()).buffer)), `layer ${i}`).toEqual(
        Array.from(want),
      );
    }
    // The CPU's list form agrees with its per-layer form.
    const a = layers.map((l) => cpu.fromArray(l.b, [l.b.length]));
    const b = layers.map((l) => cpu.fromArray(l.b, [l.b.length]));
    const co = order.map((i, k) => cpu.fromArray(offs[k].off, [Es[i] + 1], 'i32'));
    cpu.moeBiasUpdates(
      order.map((i) => a[i]),
      co,
      0.003,
    );
    for (const [k, i] of order.entries()) cpu.moeBiasUpdate(b[i], co[k], 0.003);
    for (const [i, t] of a.entries()) {
      const want = Array.from(await b[i].read());
      expect(Array.from(await t.read())).toEqual(want);
      // …and the GPU's f32 values are the float64 reference's, rounded.
      const got = Array.from(await many.biases[i].read());
      for (const [e, v] of want.entries()) expect(Math.abs(got[e] - v)).toBeLessThan(1e-7 * (1 + Math.abs(v)));
    }
  });

  it('b += γ·sign(mean − c) on hand-made loads (E=4, loads [3,1,2,2], mean 2)', async () => {
    const gamma = 0.001;
    const b0 = [0.5, 0, -0.25, 0.125];
    const expected = [0.5 - gamma, gamma, -0.25, 0.125];
    for (const [name, be] of await backends()) {
      const bias = be.fromArray(b0, [4]);
      const offsets = be.fromArray([0, 3, 4, 6, 8], [5], 'i32');
      be.moeBiasUpdate(bias, offsets, gamma);
      const got = Array.from(await bias.read());
      for (let e = 0; e < 4; e++) expect(got[e], `${name} e=${e}`).toBeCloseTo(expected[e], 7);
      // Loads above the mean lose bias, below gain, at the mean exactly unchanged.
      expect(got[2], name).toBe(Math.fround(-0.25));
      expect(got[3], name).toBe(Math.fround(0.125));
    }
  });

  it('γ = 0 changes nothing; a non-integer mean never gives sign 0', async () => {
    for (const [name, be] of await backends()) {
      const bias = be.fromArray([0.25, -0.5, 1], [3]);
      // loads [1, 1, 0]: mean 2/3 → signs [−1, −1, +1]
      const offsets = be.fromArray([0, 1, 2, 2], [4], 'i32');
      be.moeBiasUpdate(bias, offsets, 0);
      expect(Array.from(await bias.read()), name).toEqual([0.25, -0.5, 1]);
      be.moeBiasUpdate(bias, offsets, 0.5);
      expect(Array.from(await bias.read()), name).toEqual([-0.25, -1, 1.5]);
    }
  });
});

describe('routing by hand', () => {
  const plain: RouteConfig = { nGroup: 1, topkGroup: 1, topK: 2, normTopk: false, scale: 1 };

  it('a bias changes the selection, but the weights stay the original scores', async () => {
    const scores = [0.875, 0.75, 0.25, 0.125];
    for (const [name, be] of await backends()) {
      const s = be.fromArray(scores, [1, 4]);
      const noBias = be.moeRoute(s, be.fromArray([0, 0, 0, 0], [4]), plain);
      expect(await ints(noBias.idx), name).toEqual([0, 1]);
      expect(Array.from(await noBias.weight.read()), name).toEqual([0.875, 0.75]);
      // Bias lifts expert 2 to sel 1.0 (first) — its weight is still its score 0.25, not 1.0.
      const biased = be.moeRoute(s, be.fromArray([0, 0, 0.75, 0], [4]), plain);
      expect(await ints(biased.idx), name).toEqual([2, 0]);
      expect(Array.from(await biased.weight.read()), name).toEqual([0.25, 0.875]);
      // Normalized and scaled: 2.5·[0.25, 0.875] / 1.125.
      const normed = be.moeRoute(s, be.fromArray([0, 0, 0.75, 0], [4]), { ...plain, normTopk: true, scale: 2.5 });
      const w = Array.from(await normed.weight.read());
      expect(w[0], name).toBeCloseTo((2.5 * 0.25) / 1.125, 6);
      expect(w[1], name).toBeCloseTo((2.5 * 0.875) / 1.125, 6);
    }
  });

  it('group-limited selection keeps the groups with the best top-2 sums', async () => {
    // Groups {0,1} {2,3} {4,5}: top-2 sums 1.0, 1.125, 0.875 → keep group 1 only.
    const scores = [0.875, 0.125, 0.625, 0.5, 0.5, 0.375];
    const zero = [0, 0, 0, 0, 0, 0];
    for (const [name, be] of await backends()) {
      const s = be.fromArray(scores, [1, 6]);
      const b = be.fromArray(zero, [6]);
      expect(await ints(be.moeRoute(s, b, { ...plain, nGroup: 3, topkGroup: 1 }).idx), name).toEqual([2, 3]);
      // Plain top-2 would take expert 0 first.
      expect(await ints(be.moeRoute(s, b, plain).idx), name).toEqual([0, 2]);
      // Keeping 2 groups: groups 1 and 0 → best of {0,1,2,3} = 0, 2.
      expect(await ints(be.moeRoute(s, b, { ...plain, nGroup: 3, topkGroup: 2, topK: 3 }).idx), name).toEqual([
        0, 2, 3,
      ]);
    }
  });

  it('ties break to the lower index, for experts and for groups, including bias-made ties', async () => {
    for (const [name, be] of await backends()) {
      const s = be.fromArray([0.5, 0.5, 0.5, 0.5], [1, 4]);
      const zero = be.fromArray([0, 0, 0, 0], [4]);
      expect(await ints(be.moeRoute(s, zero, plain).idx), name).toEqual([0, 1]);
      // Both groups tie (sum 1.0): group 0 is kept.
      expect(await ints(be.moeRoute(s, zero, { ...plain, nGroup: 2, topkGroup: 1 }).idx), name).toEqual([0, 1]);
      // scores [0.25, 0.5, 0.75, 0.5] + bias [0.5, 0.25, 0, 0] = sel [0.75, 0.75, 0.75, 0.5]: a 3-way tie.
      const s2 = be.fromArray([0.25, 0.5, 0.75, 0.5], [1, 4]);
      const b2 = be.fromArray([0.5, 0.25, 0, 0], [4]);
      expect(await ints(be.moeRoute(s2, b2, { ...plain, topK: 3 }).idx), name).toEqual([0, 1, 2]);
      // Groups {0,1} {2,3}: sums 1.5 and 1.25 → group 0; order within: 0 then 1.
      expect(await ints(be.moeRoute(s2, b2, { ...plain, nGroup: 2, topkGroup: 1 }).idx), name).toEqual([0, 1]);
    }
  });
});

describe('GPU routing matches the CPU bit for bit under exact ties', () => {
  const configs: Array<[number, RouteConfig]> = [
    [8, { nGroup: 2, topkGroup: 1, topK: 2, normTopk: true, scale: 1 }],
    [6, { nGroup: 3, topkGroup: 2, topK: 3, normTopk: false, scale: 2.5 }],
    [64, { nGroup: 8, topkGroup: 4, topK: 8, normTopk: true, scale: 2.5 }],
    [256, { nGroup: 8, topkGroup: 4, topK: 8, normTopk: true, scale: 1 }],
    [256, { nGroup: 1, topkGroup: 1, topK: 16, normTopk: false, scale: 1 }],
  ];
  for (const [E, r] of configs) {
    it(`2000 rows, E=${E} G=${r.nGroup} topkGroup=${r.topkGroup} K=${r.topK}`, async () => {
      const gpu = await gpuBackend();
      const rng = new Rng(E * 31 + r.topK);
      const N = 2000;
      // Multiples of 1/8: with E ≥ 8 values from 7 levels, almost every row has ties.
      const scores = Float64Array.from({ length: N * E }, () => rng.int(1, 7) / 8);
      const bias = Float64Array.from({ length: E }, () => rng.int(-2, 2) / 8);
      const c = cpu.moeRoute(cpu.fromArray(scores, [N, E]), cpu.fromArray(bias, [E]), r);
      const g = gpu.moeRoute(gpu.fromArray(scores, [N, E]), gpu.fromArray(bias, [E]), r);
      const ci = await c.idx.read();
      const gi = await g.idx.read();
      expect(gi).toBeInstanceOf(Int32Array);
      let mismatches = 0;
      for (let i = 0; i < ci.length; i++) if (ci[i] !== gi[i]) mismatches++;
      expect(mismatches).toBe(0);
      const cw = await c.weight.read();
      const gw = await g.weight.read();
      let err = 0;
      for (let i = 0; i < cw.length; i++) err = Math.max(err, Math.abs(cw[i] - gw[i]));
      expect(err).toBeLessThan(1e-6);
    });
  }
});

describe('dispatch plan', () => {
  it('a large plan (N=65536, K=2, E=64: 512 chunks, carries across scan tiles) equals the CPU counting sort and is deterministic', async () => {
    const gpu = await gpuBackend();
    const N = 65536;
    const K = 2;
    const E = 64;
    const rng = new Rng(5);
    const idx = new Int32Array(N * K);
    for (let n = 0; n < N; n++) {
      // Experts 60..63 are never chosen; the rest skewed towards low indices.
      const a = Math.floor(rng.next() ** 2 * 60);
      let b = Math.floor(rng.next() * 60);
      if (b === a) b = (a + 1) % 60;
      idx[n * K] = a;
      idx[n * K + 1] = b;
    }
    const c = cpu.moePlan(cpu.fromArray(idx, [N, K], 'i32'), E);
    const gIdx = gpu.fromArray(idx, [N, K], 'i32');
    const g1 = gpu.moePlan(gIdx, E);
    const g2 = gpu.moePlan(gIdx, E);
    for (const key of ['offsets', 'slotAssign', 'assignSlot'] as const) {
      const want = await c[key].read();
      expect(await g1[key].read(), key).toEqual(want);
      expect(await g2[key].read(), key).toEqual(want);
    }
    const off = await c.offsets.read();
    expect(off[E]).toBe(N * K);
    expect(off[60]).toBe(N * K); // idle experts: empty segments at the end
  });

  it('the one-workgroup plan equals the four-pass plan and the CPU, at ragged and edge sizes', async () => {
    const gpu = await gpuBackend();
    const rng = new Rng(8);
    expect(planPath(2048, 16)).toBe('small'); // browser-v3: 512 tokens × top-4
    expect(planPath(16 * 256 + 1, 16)).toBe('passes');
    expect(planPath(64, 257)).toBe('passes');
    // [M assignments as N × K, E]: one chunk, a ragged last chunk, the most chunks, E = 1, E = WG.
    for (const [N, K, E] of [
      [1, 1, 1],
      [7, 3, 5],
      [333, 2, 8],
      [1024, 4, 16],
      [500, 1, 1],
      [130, 2, 256],
    ]) {
      const idx = new Int32Array(N * K);
      for (let i = 0; i < idx.length; i++) idx[i] = Math.floor(rng.next() ** 2 * E); // skewed; some idle
      const c = cpu.moePlan(cpu.fromArray(idx, [N, K], 'i32'), E);
      const gIdx = gpu.fromArray(idx, [N, K], 'i32');
      const small = moePlanWith(gpu, gIdx, E, 'small');
      const passes = moePlanWith(gpu, gIdx, E, 'passes');
      for (const key of ['offsets', 'slotAssign', 'assignSlot'] as const) {
        const want = await c[key].read();
        expect(await small[key].read(), `${key} N=${N} K=${K} E=${E}`).toEqual(want);
        expect(await passes[key].read(), `${key} N=${N} K=${K} E=${E}`).toEqual(want);
      }
    }
  });
});

describe('sigmoid', () => {
  it('is stable and saturates cleanly at huge |x|', async () => {
    for (const [name, be] of await backends()) {
      const y = Array.from(await be.sigmoid(be.fromArray([-1000, -100, -20, 0, 20, 100, 1000], [7])).read());
      expect(y.every(Number.isFinite), name).toBe(true);
      expect(y[0], name).toBe(0);
      expect(y[3], name).toBe(0.5);
      expect(y[6], name).toBe(1);
      expect(y[2], name).toBeCloseTo(Math.exp(-20), 14);
      expect(Math.abs(y[2] - Math.exp(-20)) / Math.exp(-20), name).toBeLessThan(1e-5);
    }
  });
});

describe('sigmoid fused with the routing (moeRouteSigmoid)', () => {
  const bits = (v: ArrayLike<number>) => Array.from(new Uint32Array(new Float32Array(v).buffer));
  // Normwise error against max(1, |ref|): with K = 1 and norm on, dScores = scale·(dW − dW·s/s)/s
  // is a cancellation whose exact value is 0 (the f32 result is a few ulps of dW).
  const maxErr = (a: ArrayLike<number>, b: ArrayLike<number>) => {
    let num = 0;
    let den = 1;
    for (let i = 0; i < b.length; i++) {
      num = Math.max(num, Math.abs(a[i] - b[i]));
      den = Math.max(den, Math.abs(b[i]));
    }
    return num / den;
  };
  // [E, G, topkGroup, K]: one expert, ungrouped, grouped (V3-like at 64 and 256), K = 16.
  const topologies: Array<[number, number, number, number]> = [
    [1, 1, 1, 1],
    [4, 1, 1, 2],
    [4, 2, 1, 2],
    [16, 4, 2, 4],
    [16, 1, 1, 3],
    [64, 8, 4, 8],
    [256, 8, 4, 8],
    [256, 1, 1, 16],
  ];
  const cases: Array<{ N: number; E: number; r: RouteConfig; what: string }> = [];
  for (const N of [1, 7, 33, 130]) {
    for (const [E, G, topkGroup, K] of topologies) {
      const normTopk = (N + E + G) % 2 === 0;
      const r: RouteConfig = { nGroup: G, topkGroup, topK: K, normTopk, scale: normTopk ? 2.5 : 1 };
      cases.push({ N, E, r, what: `N=${N} E=${E} G=${G} topkGroup=${topkGroup} K=${K} norm=${normTopk}` });
    }
  }

  /**
   * Inputs of one case: logits normal (σ across its range, saturated tails included) or on a grid
   * of 1/4 (exact ties among the scores), a small bias, upstream gradients for the weights and
   * the scores (some exact zeros).
   */
  function inputs(rng: Rng, N: number, E: number, K: number, tied: boolean) {
    return {
      logits: Float64Array.from({ length: N * E }, () => (tied ? rng.int(-8, 8) / 4 : 3 * rng.normal())),
      bias: Float64Array.from({ length: E }, () => (tied ? rng.int(-1, 1) / 8 : 0.05 * rng.normal())),
      dw: rng.normalArray(N * K),
      dExtra: Float64Array.from({ length: N * E }, () => (rng.next() < 0.1 ? 0 : rng.normal())),
    };
  }

  type In = ReturnType<typeof inputs>;
  /** Fused and unfused, forward and backward (with and without the extra gradient), read back. */
  async function runBoth(be: Backend, h: In, N: number, E: number, r: RouteConfig) {
    const up = (a: Float64Array, shape: number[]) => be.fromArray(a, shape);
    const [logits, bias, dw, dExtra] = [
      up(h.logits, [N, E]),
      up(h.bias, [E]),
      up(h.dw, [N, r.topK]),
      up(h.dExtra, [N, E]),
    ];
    const f = be.moeRouteSigmoid(logits, bias, r);
    const fd = be.moeRouteSigmoidBackward(f.scores, f.idx, dw, r);
    const fdx = be.moeRouteSigmoidBackward(f.scores, f.idx, dw, r, dExtra);
    // The unfused path as the tape ran it: the balance loss's part arrives first, so it is a + b
    // with a = dExtra.
    const scores = be.sigmoid(logits);
    const u = be.moeRoute(scores, bias, r);
    const dScores = be.moeRouteBackward(scores, u.idx, dw, r);
    const ud = be.sigmoidBackward(scores, dScores);
    const udx = be.sigmoidBackward(scores, be.add(dExtra, dScores));
    const read = async (ts: Tensor[]) => Promise.all(ts.map((t) => t.read()));
    const [fi, fw, fs, fg, fgx] = await read([f.idx, f.weight, f.scores, fd, fdx]);
    const [ui, uw, us, ug, ugx] = await read([u.idx, u.weight, scores, ud, udx]);
    return {
      fused: { idx: fi, weight: fw, scores: fs, dl: fg, dlx: fgx },
      plain: { idx: ui, weight: uw, scores: us, dl: ug, dlx: ugx },
    };
  }

  it('gives the bits of sigmoid → moeRoute, and of route_bwd → (+ extra) → sigmoid_bwd, on the GPU and the CPU', async () => {
    const gpu = await gpuBackend();
    const rng = new Rng(41);
    for (const { N, E, r, what } of cases) {
      for (const tied of [false, true]) {
        const h = inputs(rng, N, E, r.topK, tied);
        const at = `${what} ${tied ? 'tied' : 'normal'}`;
        const g = await runBoth(gpu, h, N, E, r);
        const c = await runBoth(cpu, h, N, E, r);
        for (const [name, run] of [
          ['webgpu', g],
          ['cpu', c],
        ] as const) {
          expect(Array.from(run.fused.idx), `${name} idx ${at}`).toEqual(Array.from(run.plain.idx));
          for (const key of ['weight', 'scores', 'dl', 'dlx'] as const)
            expect(bits(run.fused[key]), `${name} ${key} ${at}`).toEqual(bits(run.plain[key]));
        }
        // The GPU against the float64 reference (ties: the grid keeps σ's levels far apart).
        if (tied) expect(Array.from(g.fused.idx), `idx vs cpu ${at}`).toEqual(Array.from(c.fused.idx));
        for (const key of ['weight', 'scores', 'dl', 'dlx'] as const)
          if (tied || key === 'scores')
            expect(maxErr(g.fused[key], c.fused[key]), `${key} vs cpu ${at}`).toBeLessThan(1e-6);
      }
    }
  });

  it('is one dispatch forward and one backward (with or without the extra gradient)', async () => {
    const gpu = await gpuBackend();
    const rng = new Rng(43);
    const [N, E, K] = [33, 16, 4];
    const r: RouteConfig = { nGroup: 4, topkGroup: 2, topK: K, normTopk: true, scale: 2.5 };
    const h = inputs(rng, N, E, K, false);
    const logits = gpu.fromArray(h.logits, [N, E]);
    const bias = gpu.fromArray(h.bias, [E]);
    const dw = gpu.fromArray(h.dw, [N, K]);
    const dExtra = gpu.fromArray(h.dExtra, [N, E]);
    await gpu.flush();
    const count = async (run: () => Tensor) => {
      const before = gpu.rt.dispatches;
      await run().read();
      return gpu.rt.dispatches - before;
    };
    const f = gpu.moeRouteSigmoid(logits, bias, r);
    expect(await count(() => f.weight)).toBe(1);
    expect(await count(() => gpu.moeRouteSigmoidBackward(f.scores, f.idx, dw, r))).toBe(1);
    expect(await count(() => gpu.moeRouteSigmoidBackward(f.scores, f.idx, dw, r, dExtra))).toBe(1);
  });
});
