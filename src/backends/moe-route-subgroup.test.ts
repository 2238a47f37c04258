// The subgroup routing entries (shaders/moe_route_subgroup.wgsl): where the device has
// `subgroups` (lavapipe does) moeRoute and moeRouteSigmoid take them, and they give the CPU's
// experts exactly and the workgroup kernels' bits for every output, at exact ties, odd expert
// counts, K above the subgroup width, a last workgroup with fewer rows, and ±0 ties. On rows
// with NaN they still give K distinct experts in range. Both paths are also checked against the
// float64 reference by the op checks (moeRoute and moeRouteWorkgroup, … in src/check).
import { describe, expect, it } from 'vitest';
import type { RouteConfig } from '../engine/backend';
import { Rng } from '../engine/rng';
import type { Tensor } from '../engine/tensor';
import { cpu, gpuBackend, traced } from '../test/gpu';
import type { WebGPUBackend } from './webgpu/backend';
import { type KernelPaths, withKernelPaths } from './webgpu/device';
import { routePath } from './webgpu/moe_route';

const WORKGROUP: Partial<KernelPaths> = { subgroups: false };

const bits = (a: Float64Array | Int32Array) => Array.from(new Uint32Array(Float32Array.from(a).buffer));

/** Run fn on the GPU with `paths`; its outputs read back and the kernel entries it dispatched. */
async function onPath(
  gpu: WebGPUBackend,
  paths: Partial<KernelPaths>,
  fn: () => Tensor[],
): Promise<{ outs: Array<Float64Array | Int32Array>; entries: string[] }> {
  const { value: ts, kernels } = traced(gpu, () => withKernelPaths(gpu, paths, fn));
  const entries = kernels.map((k) => k.slice(k.indexOf(':') + 1));
  const outs: Array<Float64Array | Int32Array> = [];
  for (const t of ts) {
    outs.push(await t.read());
    t.dispose();
  }
  return { outs, entries };
}

// [E, config]: plain and group-limited, odd E and group sizes, K above lavapipe's 8 lanes (16, 64),
// K = E, and the config's largest G (64).
const CONFIGS: Array<[number, RouteConfig]> = [
  [8, { nGroup: 2, topkGroup: 1, topK: 2, normTopk: true, scale: 1 }],
  [6, { nGroup: 3, topkGroup: 2, topK: 3, normTopk: false, scale: 2.5 }],
  [3, { nGroup: 1, topkGroup: 1, topK: 3, normTopk: true, scale: 1 }],
  [70, { nGroup: 7, topkGroup: 3, topK: 5, normTopk: true, scale: 1.5 }],
  [256, { nGroup: 8, topkGroup: 4, topK: 8, normTopk: true, scale: 2.5 }],
  [256, { nGroup: 1, topkGroup: 1, topK: 16, normTopk: false, scale: 1 }],
  [512, { nGroup: 64, topkGroup: 8, topK: 64, normTopk: true, scale: 1 }],
];

describe('subgroup routing', () => {
  it('moeRoute and moeRouteSigmoid take the subgroup entries where the device has subgroups', async () => {
    const gpu = await gpuBackend();
    expect(gpu.rt.features.subgroups).toBe(true); // lavapipe; the tests below rely on it
    const r = CONFIGS[0][1];
    const s = gpu.fromArray([0.5, 0.25, 0.75, 0.125, 0.5, 0.25, 0.375, 0.625], [1, 8]);
    const b = gpu.fromArray(new Float64Array(8), [8]);
    const route = () => {
      const a = gpu.moeRoute(s, b, r);
      const c = gpu.moeRouteSigmoid(s, b, r);
      return [a.idx, a.weight, c.idx, c.weight, c.scores];
    };
    expect((await onPath(gpu, {}, route)).entries).toEqual(['route_subgroup', 'route_sigmoid_subgroup']);
    expect((await onPath(gpu, WORKGROUP, route)).entries).toEqual(['route', 'route_sigmoid']);
    expect(withKernelPaths(gpu, WORKGROUP, () => routePath(gpu, 8))).toBe('workgroup');
    // More groups than the subgroup entries' 64-bit mask holds: the workgroup kernel, still the CPU's choice.
    expect(routePath(gpu, 65)).toBe('workgroup');
    const r65: RouteConfig = { nGroup: 65, topkGroup: 3, topK: 4, normTopk: true, scale: 1 };
    const rng = new Rng(65);
    const scores = Float64Array.from({ length: 9 * 130 }, () => rng.int(1, 7) / 8);
    const bias = new Float64Array(130);
    const want = await cpu.moeRoute(cpu.fromArray(scores, [9, 130]), cpu.fromArray(bias, [130]), r65).idx.read();
    const g65 = await onPath(gpu, {}, () => [
      gpu.moeRoute(gpu.fromArray(scores, [9, 130]), gpu.fromArray(bias, [130]), r65).idx,
    ]);
    expect(g65.entries).toEqual(['route']);
    expect(Array.from(g65.outs[0])).toEqual(Array.from(want));
  });

  for (const [E, r] of CONFIGS) {
    it(`E=${E} G=${r.nGroup} topkGroup=${r.topkGroup} K=${r.topK}: the CPU's experts and the workgroup kernel's bits, at exact ties`, async () => {
      const gpu = await gpuBackend();
      const rng = new Rng(E * 7 + r.topK);
      const N = 1003; // not a multiple of the rows per workgroup
      // Multiples of 1/8 (7 levels) plus a bias on the same grid: nearly every row has ties.
      const scores = Float64Array.from({ length: N * E }, () => rng.int(1, 7) / 8);
      const bias = Float64Array.from({ length: E }, () => rng.int(-2, 2) / 8);
      const c = cpu.moeRoute(cpu.fromArray(scores, [N, E]), cpu.fromArray(bias, [E]), r);
      const want = Array.from(await c.idx.read());
      const sg = gpu.fromArray(scores, [N, E]);
      // As logits, for the fused entries: σ(logit(s)) is s up to f32 rounding, ties included.
      const lg = gpu.fromArray(
        scores.map((v) => Math.log(v / (1 - v))),
        [N, E],
      );
      const bi = gpu.fromArray(bias, [E]);
      const run = () => {
        const a = gpu.moeRoute(sg, bi, r);
        const f = gpu.moeRouteSigmoid(lg, bi, r);
        return [a.idx, a.weight, f.idx, f.weight, f.scores];
      };
      const sub = await onPath(gpu, {}, run);
      const wg = await onPath(gpu, WORKGROUP, run);
      expect(sub.entries).toEqual(['route_subgroup', 'route_sigmoid_subgroup']);
      expect(wg.entries).toEqual(['route', 'route_sigmoid']);
      expect(Array.from(sub.outs[0])).toEqual(want);
      for (const [i, out] of sub.outs.entries())
        expect(i === 0 || i === 2 ? Array.from(out) : bits(out), `output ${i}`).toEqual(
          i === 0 || i === 2 ? Array.from(wg.outs[i]) : bits(wg.outs[i]),
        );
      const cw = await c.weight.read();
      let err = 0;
      for (let i = 0; i < cw.length; i++) err = Math.max(err, Math.abs(cw[i] - sub.outs[1][i]));
      expect(err).toBeLessThan(1e-6);
    });
  }

  // sel = s + bias with a bias of −0 keeps each zero's sign (+0 would turn −0 into +0). Experts
  // that tie at ±0, ±∞ among values, and groups whose scores are −0 (−0 + −0) and +0.
  const SIGNED: Array<[string, RouteConfig, number[][], number[]]> = [
    [
      'experts',
      { nGroup: 1, topkGroup: 1, topK: 3, normTopk: false, scale: 1 },
      [
        [-0, 0, -0, 0, -1, -3],
        [0, -0, -1, -0, -2, -3],
        [-Infinity, -1, Infinity, -0, 2, -3],
      ],
      [0, 1, 2, 0, 1, 3, 2, 4, 3],
    ],
    [
      'groups',
      { nGroup: 3, topkGroup: 1, topK: 2, normTopk: false, scale: 1 },
      [
        [-0, -0, 0, 0, -1, -1],
        [-1, -1, 0, 0, -0, -0],
      ],
      [0, 1, 2, 3],
    ],
  ];
  for (const [what, r, rows, expected] of SIGNED) {
    it(`−0 and +0 tie (the lower index first), ±∞ order as values: ${what}`, async () => {
      const gpu = await gpuBackend();
      const E = rows[0].length;
      const N = rows.length;
      const flat = rows.flat();
      const negZero = new Float64Array(E).fill(-0);
      const c = cpu.moeRoute(cpu.fromArray(flat, [N, E]), cpu.fromArray(negZero, [E]), r);
      expect(Array.from(await c.idx.read())).toEqual(expected);
      const run = () => {
        const g = gpu.moeRoute(gpu.fromArray(flat, [N, E]), gpu.fromArray(negZero, [E]), r);
        return [g.idx, g.weight];
      };
      const sub = await onPath(gpu, {}, run);
      const wg = await onPath(gpu, WORKGROUP, run);
      expect(sub.entries).toEqual(['route_subgroup']);
      expect(wg.entries).toEqual(['route']);
      expect(Array.from(sub.outs[0])).toEqual(expected);
      expect(Array.from(wg.outs[0])).toEqual(expected);
      expect(bits(sub.outs[1])).toEqual(bits(wg.outs[1]));
    });
  }

  it('rows with NaN still get K distinct experts in range; the other rows are unchanged', async () => {
    const gpu = await gpuBackend();
    const E = 16;
    const r: RouteConfig = { nGroup: 4, topkGroup: 2, topK: 4, normTopk: true, scale: 1 };
    const rng = new Rng(3);
    const N = 40;
    const scores = Float64Array.from({ length: N * E }, () => rng.next());
    for (let n = 0; n < N; n += 3) for (let j = 0; j < 1 + (n % 5); j++) scores[n * E + rng.int(0, E - 1)] = Number.NaN;
    const bias = new Float64Array(E);
    const { outs } = await onPath(gpu, {}, () => {
      const g = gpu.moeRoute(gpu.fromArray(scores, [N, E]), gpu.fromArray(bias, [E]), r);
      return [g.idx];
    });
    const clean = cpu.moeRoute(cpu.fromArray(scores, [N, E]), cpu.fromArray(bias, [E]), r);
    const want = await clean.idx.read();
    for (let n = 0; n < N; n++) {
      const got = Array.from(outs[0].subarray(n * 4, n * 4 + 4));
      expect(new Set(got).size, `row ${n}`).toBe(4);
      for (const e of got) expect(e >= 0 && e < E, `row ${n}: ${got}`).toBe(true);
      if (n % 3 !== 0) expect(got, `row ${n}`).toEqual(Array.from(want.subarray(n * 4, n * 4 + 4)));
    }
  });
});
