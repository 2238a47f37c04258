// The generation engine's cache ops (cacheWrite, ropeAt, cachedAttention) beyond their op checks
// (src/check/ops.test.ts): bit-identical reruns, a query that sees only the first cache row, a
// query that sees none, the largest supported head dims (1024), and the host-side limit check.
import { describe, expect, it } from 'vitest';
import { relErr } from '../check/harness';
import type { Backend, CachedAttentionShape } from '../engine/backend';
import { Rng } from '../engine/rng';
import { cpu, gpuBackend } from '../test/gpu';

const fmt = (x: number | null) => (x === null ? '-' : x.toExponential(2));

function bitsEqual(a: Float64Array, b: Float64Array): boolean {
  return a.length === b.length && a.every((v, i) => Object.is(v, b[i]));
}

interface AttnHost {
  q: Float64Array;
  kc: Float64Array;
  vc: Float64Array;
  pos: Int32Array;
  B: number;
  n: number;
  C: number;
  s: CachedAttentionShape;
}

function attnHost(seed: number, B: number, n: number, C: number, s: CachedAttentionShape, pos: number[]): AttnHost {
  const rng = new Rng(seed);
  const f32 = (k: number) => rng.normalArray(k).map(Math.fround);
  return {
    q: f32(B * n * s.heads * s.dQK),
    kc: f32(B * C * s.kStride),
    vc: f32(B * C * s.vStride),
    pos: Int32Array.from(pos),
    B,
    n,
    C,
    s,
  };
}

async function runAttn(be: Backend, h: AttnHost): Promise<Float64Array> {
  const q = be.fromArray(h.q, [h.B, h.n, h.s.heads, h.s.dQK]);
  const kc = be.fromArray(h.kc, [h.B, h.C, h.s.kStride]);
  // The same array for both caches means the same tensor (MLA's shared latent), bound twice.
  const vc = h.vc === h.kc ? kc : be.fromArray(h.vc, [h.B, h.C, h.s.vStride]);
  const pos = be.fromArray(h.pos, [h.B], 'i32');
  const o = be.cachedAttention(q, kc, vc, pos, h.s);
  const out = (await o.read()) as Float64Array;
  for (const t of [q, kc, vc, pos, o]) t.dispose();
  return out;
}

const gqa = (dQK: number, dV: number): CachedAttentionShape => ({
  heads: 4,
  kvHeads: 2,
  dQK,
  dV,
  kStride: 2 * dQK,
  vStride: 2 * dV,
  vOffset: 0,
  scale: 1 / Math.sqrt(dQK),
});

describe('cachedAttention', () => {
  it('is bit-identical run to run (several key tiles, two accumulators per thread)', async () => {
    const gpu = await gpuBackend();
    const h = attnHost(11, 2, 3, 200, gqa(40, 100), [150, 197]);
    const a = await runAttn(gpu, h);
    const b = await runAttn(gpu, h);
    expect(bitsEqual(a, b)).toBe(true);
  });

  it('a query at position 0 sees only the first cache row: o = v_0 exactly', async () => {
    const gpu = await gpuBackend();
    const s = gqa(9, 5);
    // Sequence 0 starts at 0: its query j = 0 sees row 0 only, query j = 1 rows 0..1.
    const h = attnHost(12, 2, 2, 70, s, [0, 30]);
    const o = await runAttn(gpu, h);
    for (let hd = 0; hd < s.heads; hd++) {
      const g = Math.floor(hd / (s.heads / s.kvHeads));
      const got = o.subarray(hd * s.dV, (hd + 1) * s.dV); // b = 0, j = 0
      const want = h.vc.subarray(g * s.dV, (g + 1) * s.dV); // row 0 of sequence 0, kv head g
      expect(Array.from(got), `head ${hd}`).toEqual(Array.from(want));
    }
    expect(relErr(o, await runAttn(cpu, h))).toBeLessThan(1e-5);
  });

  it('a query with no visible key (negative start) gives zeros, as the reference', async () => {
    const gpu = await gpuBackend();
    const s = gqa(6, 3);
    const h = attnHost(13, 2, 2, 5, s, [-1, 2]); // sequence 0, query 0 sits at −1
    const o = await runAttn(gpu, h);
    expect(Array.from(o.subarray(0, s.heads * s.dV)).every((x) => x === 0)).toBe(true);
    expect(relErr(o, await runAttn(cpu, h))).toBeLessThan(1e-5);
  });

  it('supports dQK = dV = 1024 (MLA-like, one shared latent row)', async () => {
    const gpu = await gpuBackend();
    const s: CachedAttentionShape = {
      heads: 2,
      kvHeads: 1,
      dQK: 1024,
      dV: 1024,
      kStride: 1024,
      vStride: 1024,
      vOffset: 0,
      scale: 1 / 32,
    };
    const h = attnHost(14, 1, 2, 70, s, [66]);
    h.vc = h.kc; // one latent tensor as key and value
    const err = relErr(await runAttn(gpu, h), await runAttn(cpu, h));
    console.log(`cachedAttention dQK=dV=1024: fwd ${fmt(err)}`);
    expect(err).toBeLessThan(1e-5);
  });

  it('rejects head dims past the kernel limit with a clear error', async () => {
    const gpu = await gpuBackend();
    const s: CachedAttentionShape = {
      heads: 1,
      kvHeads: 1,
      dQK: 1025,
      dV: 8,
      kStride: 1025,
      vStride: 8,
      vOffset: 0,
      scale: 1,
    };
    const h = attnHost(15, 1, 1, 2, s, [0]);
    await expect(runAttn(gpu, h)).rejects.toThrow(/dQK 1025.*exceed/);
  });
});

describe('ropeAt and cacheWrite', () => {
  it('are bit-identical run to run', async () => {
    const gpu = await gpuBackend();
    const rng = new Rng(21);
    const x = rng.normalArray(2 * 9 * 3 * 16);
    const rows = rng.normalArray(2 * 9 * 16);
    const run = async () => {
      const xt = gpu.fromArray(x, [2, 9, 3, 16]);
      const pos = gpu.fromArray([3, 250], [2], 'i32');
      const y = gpu.ropeAt(xt, pos, 10000);
      const cache = gpu.zeros([2, 255, 16]);
      const r = gpu.fromArray(rows, [2, 9, 16]);
      gpu.cacheWrite(cache, r, pos);
      const out = [(await y.read()) as Float64Array, (await cache.read()) as Float64Array];
      for (const t of [xt, pos, y, cache, r]) t.dispose();
      return out;
    };
    const [a, b] = [await run(), await run()];
    expect(bitsEqual(a[0], b[0])).toBe(true);
    expect(bitsEqual(a[1], b[1])).toBe(true);
  });
});
