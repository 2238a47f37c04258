// Layout ops (sliceLast, padLast, concatLast, swap01) and the masked row softmax beyond their op
// checks (src/check/ops.test.ts): the layout ops are bit-exact copies on both the vec4 and the
// per-float paths; softmax masks exactly, handles Tk = 1 and Tk = 4096, huge logits, nearly one-hot
// rows in the backward, fully masked rows, more rows than one grid dimension holds, and is
// bit-identical run to run.
import { describe, expect, it } from 'vitest';
import { relErr } from '../check/harness';
import type { Backend } from '../engine/backend';
import { Rng } from '../engine/rng';
import type { Tensor } from '../engine/tensor';
import { cpu, gpuBackend } from '../test/gpu';

const fmt = (x: number | null) => (x === null ? '-' : x.toExponential(2));

async function readF(t: Tensor): Promise<Float64Array> {
  return (await t.read()) as Float64Array;
}

function bitsEqual(a: Float64Array, b: Float64Array): boolean {
  return a.length === b.length && a.every((v, i) => Object.is(v, b[i]));
}

/** Random normals rounded to f32, so the GPU sees exactly what the CPU reference sees. */
function f32Normals(rng: Rng, n: number, std = 1): Float64Array {
  return Float64Array.from(Float32Array.from(rng.normalArray(n, std)));
}

describe('layout ops are exact copies', () => {
  // Each case runs one op on both backends from the same f32-representable data; the outputs
  // must agree bit for bit. Shapes alternate between the vec4 path (every column count and
  // offset a multiple of 4) and the per-float path.
  const cases: Array<{ name: string; shapes: number[][]; run: (be: Backend, xs: Tensor[]) => Tensor }> = [
    { name: 'sliceLast vec4', shapes: [[5, 3, 64]], run: (be, [x]) => be.sliceLast(x, 16, 32) },
    { name: 'sliceLast f32', shapes: [[5, 3, 63]], run: (be, [x]) => be.sliceLast(x, 3, 17) },
    { name: 'sliceLast whole row', shapes: [[4, 9]], run: (be, [x]) => be.sliceLast(x, 0, 9) },
    { name: 'padLast vec4', shapes: [[6, 32]], run: (be, [x]) => be.padLast(x, 64, 128) },
    { name: 'padLast f32', shapes: [[6, 31]], run: (be, [x]) => be.padLast(x, 5, 40) },
    { name: 'padLast at the end', shapes: [[6, 7]], run: (be, [x]) => be.padLast(x, 9, 16) },
    {
      name: 'concatLast vec4',
      shapes: [
        [10, 128],
        [10, 64],
      ],
      run: (be, [a, b]) => be.concatLast(a, b),
    },
    {
      name: 'concatLast f32',
      shapes: [
        [10, 13],
        [10, 2],
      ],
      run: (be, [a, b]) => be.concatLast(a, b),
    },
    { name: 'concatLast with itself', shapes: [[3, 5]], run: (be, [a]) => be.concatLast(a, a) },
    { name: 'swap01 vec4', shapes: [[37, 4, 32]], run: (be, [x]) => be.swap01(x) },
    { name: 'swap01 f32', shapes: [[37, 4, 7]], run: (be, [x]) => be.swap01(x) },
    { name: 'swap01 C=1', shapes: [[5, 9, 1]], run: (be, [x]) => be.swap01(x) },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const gpu = await gpuBackend();
      const rng = new Rng(c.name.length);
      const data = c.shapes.map((s) =>
        f32Normals(
          rng,
          s.reduce((a, b) => a * b, 1),
        ),
      );
      const outs: Float64Array[] = [];
      for (const be of [cpu, gpu] as Backend[]) {
        const xs = data.map((d, i) => be.fromArray(d, c.shapes[i]));
        const y = c.run(be, xs);
        outs.push(await readF(y));
        for (const t of [...xs, y]) t.dispose();
      }
      expect(bitsEqual(outs[1], outs[0])).toBe(true);
    });
  }

  it('slice then pad restores the slice and zeros the rest (GPU)', async () => {
    const gpu = await gpuBackend();
    const data = f32Normals(new Rng(4), 3 * 10);
    const x = gpu.fromArray(data, [3, 10]);
    const s = gpu.sliceLast(x, 2, 5);
    const p = await readF(gpu.padLast(s, 2, 10));
    for (let r = 0; r < 3; r++) {
      for (let j = 0; j < 10; j++) expect(p[r * 10 + j]).toBe(j >= 2 && j < 7 ? data[r * 10 + j] : 0);
    }
  });
});

describe('softmax', () => {
  async function run(be: Backend, x: Float64Array, shape: number[], offset: number | null, dy?: Float64Array) {
    const xt = be.fromArray(x, shape);
    const y = be.softmax(xt, offset);
    const out: { y: Float64Array; dx?: Float64Array } = { y: await readF(y) };
    if (dy) {
      const dyt = be.fromArray(dy, shape);
      const dx = be.softmaxBackward(y, dyt);
      out.dx = await readF(dx);
      dx.dispose();
      dyt.dispose();
    }
    y.dispose();
    xt.dispose();
    return out;
  }

  it('masks exactly: causal offsets 0, 2, Tk − Tq and a negative one (fully masked rows = 0)', async () => {
    const gpu = await gpuBackend();
    const [R, Tq, Tk] = [2, 5, 8];
    const x = f32Normals(new Rng(21), R * Tq * Tk, 2);
    for (const offset of [0, 2, Tk - Tq, -2]) {
      for (const be of [cpu, gpu] as Backend[]) {
        const { y } = await run(be, x, [R, Tq, Tk], offset);
        for (let r = 0; r < R; r++) {
          for (let i = 0; i < Tq; i++) {
            let sum = 0;
            for (let j = 0; j < Tk; j++) {
              const v = y[(r * Tq + i) * Tk + j];
              if (j > i + offset) expect(v, `${be.name} offset ${offset} (${i},${j})`).toBe(0);
              else expect(v).toBeGreaterThan(0);
              sum += v;
            }
            const visible = Math.min(Tk, Math.max(0, i + offset + 1));
            expect(Math.abs(sum - (visible > 0 ? 1 : 0)), `${be.name} offset ${offset} row ${i}`).toBeLessThan(1e-6);
          }
        }
      }
    }
    // The last query at offset Tk − Tq sees every key: its row equals the unmasked softmax.
    const full = await run(gpu, x, [R, Tq, Tk], null);
    const dec = await run(gpu, x, [R, Tq, Tk], Tk - Tq);
    for (let r = 0; r < R; r++) {
      const b = (r * Tq + Tq - 1) * Tk;
      expect(bitsEqual(dec.y.slice(b, b + Tk), full.y.slice(b, b + Tk))).toBe(true);
    }
  });

  it('Tk = 1 gives exactly 1 and a zero gradient', async () => {
    const gpu = await gpuBackend();
    const x = f32Normals(new Rng(2), 6, 5);
    const { y, dx } = await run(gpu, x, [2, 3, 1], null, f32Normals(new Rng(3), 6));
    expect([...y]).toEqual([1, 1, 1, 1, 1, 1]);
    expect(dx!.every((v) => v === 0)).toBe(true);
  });

  it('matches the reference at Tk = 4096 (causal, decode offset), bit-identical run to run', async () => {
    const gpu = await gpuBackend();
    const [R, Tq, Tk] = [2, 3, 4096];
    const rng = new Rng(8);
    const x = f32Normals(rng, R * Tq * Tk, 3);
    const dy = f32Normals(rng, R * Tq * Tk);
    const g = await run(gpu, x, [R, Tq, Tk], Tk - Tq, dy);
    const g2 = await run(gpu, x, [R, Tq, Tk], Tk - Tq, dy);
    const c = await run(cpu, x, [R, Tq, Tk], Tk - Tq, dy);
    const ey = relErr(g.y, c.y);
    const edx = relErr(g.dx!, c.dx!);
    console.log(`softmax R=${R} Tq=${Tq} Tk=${Tk}: y ${fmt(ey)} dx ${fmt(edx)}`);
    expect(ey).toBeLessThan(1e-5);
    expect(edx).toBeLessThan(1e-5);
    expect(bitsEqual(g.y, g2.y)).toBe(true);
    expect(bitsEqual(g.dx!, g2.dx!)).toBe(true);
  });

  it('backward stays accurate on nearly one-hot rows (no cancellation at the dominant entry)', async () => {
    // y[b] = 1 − δ with δ ≈ 1e-5..1e-9: taken literally, dy[b] − Σ dy·y loses all but ε/δ of
    // its digits in f32; the shifted reduction in the shader keeps dx at a few ε.
    const gpu = await gpuBackend();
    const Tk = 5;
    const rows = [
      [12, 0, 0.5, -1, 0.25],
      [-3, 1, 20, 0, 2],
      [0, 0, 0, 0, 16],
    ];
    const x = Float64Array.from(rows.flat());
    const dy = f32Normals(new Rng(17), x.length);
    const g = await run(gpu, x, [1, rows.length, Tk], null, dy);
    const c = await run(cpu, x, [1, rows.length, Tk], null, dy);
    const e = relErr(g.dx!, c.dx!);
    console.log(`softmax backward, nearly one-hot rows: dx ${fmt(e)}`);
    expect(e).toBeLessThan(1e-5);
  });

  it('stays finite and accurate for logits of ±1e4', async () => {
    const gpu = await gpuBackend();
    const Tk = 300;
    const x = new Float64Array(2 * Tk);
    for (let j = 0; j < 2 * Tk; j++) x[j] = (j % 7 === 0 ? 1e4 : -1e4) + (j % 5);
    const g = await run(gpu, x, [1, 2, Tk], null);
    const c = await run(cpu, x, [1, 2, Tk], null);
    expect(g.y.every(Number.isFinite)).toBe(true);
    expect(relErr(g.y, c.y)).toBeLessThan(1e-5);
  });

  it('handles more rows than one grid dimension holds (2-D row grid)', async () => {
    const gpu = await gpuBackend();
    const rows = gpu.rt.limits.maxComputeWorkgroupsPerDimension + 3;
    const Tk = 2;
    const x = f32Normals(new Rng(5), rows * Tk);
    const dy = f32Normals(new Rng(6), rows * Tk);
    const g = await run(gpu, x, [1, rows, Tk], 0, dy);
    const c = await run(cpu, x, [1, rows, Tk], 0, dy);
    expect(relErr(g.y, c.y)).toBeLessThan(1e-5);
    expect(relErr(g.dx!, c.dx!)).toBeLessThan(1e-5);
    // Spot-check the last rows, which live in the second grid row.
    expect(Math.abs(g.y[rows * Tk - 1] - c.y[rows * Tk - 1])).toBeLessThan(1e-6);
  });
});
