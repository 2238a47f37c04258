// fp8 family on the GPU beyond its op checks (src/check/ops.test.ts): every code of every format
// decoded by the GPU codec (via dequantize with scale 1), the WGSL encoders and the integer f32
// division against the TS twin on edge and random bit patterns (a test-only kernel), and GPU = CPU
// bit for bit for every format × scale rule × block size on odd shapes.
import { describe, expect, it } from 'vitest';
import { quantInput } from '../check/fp8';
import type { Backend, LowFormat, QTensor, QuantSpec } from '../engine/backend';
import { Rng } from '../engine/rng';
import {
  LOW_FORMATS,
  SCALE_RULES,
  bitsToF32,
  codeCount,
  divF32,
  f32Bits,
  formatId,
  lowpDecode,
  lowpEncodeBits,
  lowpFmax,
  packCodes,
} from '../lowp/codec';
import { cpu, gpuBackend } from '../test/gpu';
import codecSrc from '../../shaders/fp8_codec.wgsl?raw';
import type { WebGPUBackend } from './webgpu/backend';
import type { Kernel } from './webgpu/pipelines';
import { grid1d, packUniforms } from './webgpu/runtime';

/** Test-only kernels over the codec: encode bit patterns, and divide pairs of bit patterns. */
const TEST_SRC = `${codecSrc}
struct P { n: u32, format: u32 }
@group(0) @binding(0) var<storage, read> t_in: array<u32>;
@group(0) @binding(1) var<storage, read_write> t_out: array<u32>;
@group(0) @binding(2) var<uniform> t_p: P;

@compute @workgroup_size(64)
fn encode(@builtin(global_invocation_id) gid: vec3<u32>) {
  if (gid.x < t_p.n) {
    t_out[gid.x] = lowp_encode(bitcast<f32>(t_in[gid.x]), t_p.format);
  }
}

@compute @workgroup_size(64)
fn divide(@builtin(global_invocation_id) gid: vec3<u32>) {
  if (gid.x < t_p.n) {
    t_out[gid.x] = f32_div_rn_bits(t_in[2u * gid.x], t_in[2u * gid.x + 1u]);
  }
}

@compute @workgroup_size(64)
fn decode4(@builtin(global_invocation_id) gid: vec3<u32>) {
  if (4u * gid.x < t_p.n) {
    let c = vec4<u32>(t_in[4u * gid.x], t_in[4u * gid.x + 1u], t_in[4u * gid.x + 2u], t_in[4u * gid.x + 3u]);
    let v = bitcast<vec4<u32>>(lowp_decode4(c, t_p.format));
    let w = vec4<u32>(bitcast<u32>(lowp_decode(c.x, t_p.format)), bitcast<u32>(lowp_decode(c.y, t_p.format)),
                      bitcast<u32>(lowp_decode(c.z, t_p.format)), bitcast<u32>(lowp_decode(c.w, t_p.format)));
    for (var j = 0u; j < 4u; j++) { t_out[4u * gid.x + j] = select(0xFFFFFFFFu, v[j], v[j] == w[j]); }
  }
}

@compute @workgroup_size(64)
fn divide_value(@builtin(global_invocation_id) gid: vec3<u32>) {
  if (gid.x < t_p.n) {
    t_out[gid.x] = lowp_div_value_bits(t_in[2u * gid.x], t_in[2u * gid.x + 1u], t_p.format);
  }
}
`;
const ENCODE: Kernel = { name: 'fp8_codec_test', code: TEST_SRC, entry: 'encode' };
const DECODE4: Kernel = { name: 'fp8_codec_test', code: TEST_SRC, entry: 'decode4' };
const DIVIDE_VALUE: Kernel = { name: 'fp8_codec_test', code: TEST_SRC, entry: 'divide_value' };
const DIVIDE: Kernel = { name: 'fp8_codec_test', code: TEST_SRC, entry: 'divide' };

async function runTestKernel(
  gpu: WebGPUBackend,
  k: Kernel,
  input: Uint32Array,
  n: number,
  format: number,
): Promise<Uint32Array> {
  const inp = gpu.fromArray(new Int32Array(input.buffer), [input.length], 'i32');
  const out = gpu.empty([n], 'i32');
  gpu.rt.record({
    kernel: k,
    buffers: [gpu.buf(inp), gpu.buf(out)],
    uniform: packUniforms('uu', [n, format]),
    workgroups: grid1d(n, 64),
  });
  const got = new Uint32Array((await out.read()).buffer.slice(0));
  inp.dispose();
  out.dispose();
  return got;
}

/** f32 bit patterns worth encoding: spec vectors, specials, every code's value and midpoints, random. */
function encodeInputs(format: LowFormat, rng: Rng): Uint32Array {
  const xs: number[] = [
    0.3,
    1.0625,
    1.1875,
    17,
    300,
    0.001,
    464,
    480,
    1e6,
    61440,
    5,
    0.25,
    2 ** -10,
    2 ** -11,
    1e-30,
    1e-45,
    0,
    Infinity,
  ];
  const bits: number[] = [0x7fc00000, 0xffc00000, 0x7f800001, 0x80000000, 0x00000001, 0x007fffff];
  for (let c = 0; c < codeCount(format) / 2; c++) {
    const v = lowpDecode(c, format);
    const w = lowpDecode(c + 1, format);
    if (Number.isFinite(v)) xs.push(v);
    if (Number.isFinite(v) && Number.isFinite(w)) {
      const mid = (v + w) / 2;
      xs.push(mid, bitsToF32(f32Bits(mid) - 1), bitsToF32(f32Bits(mid) + 1));
    }
  }
  for (let i = 0; i < 3000; i++) xs.push(2 ** (rng.next() * 80 - 40) * (1 + rng.next()));
  for (const x of xs) bits.push(f32Bits(x), f32Bits(-x));
  for (let i = 0; i < 1000; i++) bits.push(Math.floor(rng.next() * 2 ** 32)); // arbitrary patterns
  return Uint32Array.from(bits);
}

/** Write raw codes into a 1-row QTensor with all scales 1. */
function rawQTensor(be: Backend, codes: number[], format: LowFormat): QTensor {
  const block = 32;
  const cols = codes.length;
  const nTiles = Math.ceil(cols / block);
  const words = packCodes([...codes, ...new Array(nTiles * block - cols).fill(0)]);
  return {
    codes: be.fromArray(words, [1, words.length], 'i32'),
    scales: be.fromArray(new Float64Array(nTiles).fill(1), [1, nTiles]),
    rows: 1,
    cols,
    spec: { format, block, scale: 'f32' },
    tiling: 'rows',
  };
}

async function readQ(q: QTensor): Promise<{ codes: Int32Array; scales: Float64Array }> {
  return { codes: (await q.codes.read()) as Int32Array, scales: (await q.scales.read()) as Float64Array };
}

function firstDiff(a: ArrayLike<number>, b: ArrayLike<number>): string {
  if (a.length !== b.length) return `length ${a.length} vs ${b.length}`;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return `at ${i}: ${a[i]} vs ${b[i]}`;
  return '';
}

describe('fp8 quantization', () => {
  it('the GPU decodes every code of every format to the spec value (NaN, ±Inf, ±0)', async () => {
    const gpu = await gpuBackend();
    for (const f of LOW_FORMATS) {
      const codes = [...Array(codeCount(f)).keys()];
      const q = rawQTensor(gpu, codes, f);
      const got = await gpu.dequantize(q).read();
      const want = await cpu.dequantize(rawQTensor(cpu, codes, f)).read();
      for (const c of codes) {
        const g = got[c];
        const w = lowpDecode(c, f);
        expect(
          Object.is(g, w) || (Number.isNaN(g) && Number.isNaN(w)),
          `${f} code 0x${c.toString(16)}: gpu ${g} vs ${w}`,
        ).toBe(true);
        expect(Object.is(want[c], w) || (Number.isNaN(want[c]) && Number.isNaN(w))).toBe(true);
      }
      const nNaN = codes.filter((c) => Number.isNaN(got[c])).length;
      expect(nNaN).toBe(f === 'e4m3' ? 2 : f === 'e5m2' ? 6 : 0);
      if (f === 'e5m2') expect([got[0x7c], got[0xfc]]).toEqual([Infinity, -Infinity]);
      if (f === 'e4m3') expect([got[0x38], got[0x7e], got[0x08], got[0x07]]).toEqual([1, 448, 2 ** -6, 0.013671875]);
    }
  });

  it("lowp_decode4 (the GEMMs' staging) gives lowp_decode's bits for every code of every format", async () => {
    const gpu = await gpuBackend();
    for (const f of LOW_FORMATS) {
      const n = codeCount(f);
      const codes = Uint32Array.from({ length: n }, (_, c) => c);
      const got = await runTestKernel(gpu, DECODE4, codes, n, formatId(f));
      for (let c = 0; c < n; c++) {
        expect(got[c], `${f} code 0x${c.toString(16)}`).not.toBe(0xffffffff);
        // Against the TS decoder too (JS canonicalizes NaN bits: there, any NaN pattern).
        const want = lowpDecode(c, f);
        if (Number.isNaN(want)) expect(Number.isNaN(bitsToF32(got[c])), `${f} code 0x${c.toString(16)}`).toBe(true);
        else expect(got[c], `${f} code 0x${c.toString(16)}`).toBe(f32Bits(want) >>> 0);
      }
    }
  });

  it('the WGSL encoders equal the TS twin on spec vectors, midpoints, specials and random bit patterns', async () => {
    const gpu = await gpuBackend();
    const rng = new Rng(3);
    for (const f of LOW_FORMATS) {
      const input = encodeInputs(f, rng);
      const got = await runTestKernel(gpu, ENCODE, input, input.length, formatId(f));
      for (let i = 0; i < input.length; i++) {
        expect(got[i], `${f} encode(0x${input[i].toString(16)} = ${bitsToF32(input[i])})`).toBe(
          lowpEncodeBits(input[i], f),
        );
      }
    }
  });

  it('f32_div_rn_bits is correctly rounded (equals the f64-then-f32 quotient; below 2^-126 flushes to ±0)', async () => {
    const gpu = await gpuBackend();
    const rng = new Rng(5);
    const pairs: number[] = [];
    const rnd = (lo: number, hi: number): number =>
      f32Bits((rng.next() < 0.5 ? -1 : 1) * 2 ** (lo + rng.next() * (hi - lo)) * (1 + rng.next()));
    for (let i = 0; i < 4000; i++) pairs.push(rnd(-40, 40), rnd(-30, 30));
    // Quantizer-like divisors: tile scales of every rule, including the 2^-127 subnormal.
    for (let i = 0; i < 2000; i++) {
      const f = rng.pick(LOW_FORMATS);
      const amax = Math.abs(bitsToF32(rnd(-20, 20)));
      const s = [divF32(Math.max(amax, 1e-4), lowpFmax(f)), 2 ** -127, 2 ** rng.int(-126, 127)][rng.int(0, 2)];
      pairs.push(f32Bits(amax * rng.next()), f32Bits(s));
    }
    // Specials and tiny / huge quotients.
    const sp = [0, -0, 1, -1, Infinity, -Infinity, NaN, 2 ** -149, 2 ** -127, 3e38, 1e-38];
    for (const a of sp) for (const b of sp) pairs.push(f32Bits(a), f32Bits(b));
    const n = pairs.length / 2;
    const got = await runTestKernel(gpu, DIVIDE, Uint32Array.from(pairs), n, 0);
    for (let i = 0; i < n; i++) {
      const a = bitsToF32(pairs[2 * i]);
      const b = bitsToF32(pairs[2 * i + 1]);
      const want = divF32(a, b);
      const g = bitsToF32(got[i]);
      const what = `${a} / ${b}: gpu ${g} (0x${got[i].toString(16)}) vs ${want}`;
      if (Number.isNaN(want)) expect(Number.isNaN(g), what).toBe(true);
      else if (want !== 0 && Math.abs(want) < 2 ** -126)
        expect(g === 0 && Object.is(Math.sign(g), Math.sign(want) * 0), what).toBe(true);
      else expect(got[i], what).toBe(f32Bits(want));
    }
  });

  it('lowp_div_value_bits (the quantize-on-load GEMM): the decoded code of the exact quotient, or "slow"', async () => {
    const gpu = await gpuBackend();
    const rng = new Rng(8);
    const SLOW = 0xffffffff;
    for (const f of LOW_FORMATS) {
      const pairs: number[] = [];
      // Quantizer-like pairs (x in a tile, its f32-rule scale), quotients near every code's value
      // and midpoint (±0..6 ULP), and specials.
      for (let i = 0; i < 3000; i++) {
        const amax = 2 ** (rng.next() * 40 - 20);
        const s = divF32(Math.max(Math.fround(amax), 1e-4), lowpFmax(f));
        pairs.push(f32Bits((rng.next() < 0.5 ? -1 : 1) * amax * rng.next()), f32Bits(s));
      }
      for (let c = 1; c < codeCount(f) / 2; c++) {
        const v = lowpDecode(c, f);
        const mid = (v + lowpDecode(c + 1, f)) / 2;
        for (const q of [v, mid])
          if (Number.isFinite(q)) {
            const s = f32Bits(2 ** rng.int(-10, 10));
            for (let d = -6; d <= 6; d++) pairs.push((f32Bits(q * bitsToF32(s)) + d) >>> 0, s);
          }
      }
      for (const a of [0, -0, 1, -1, Infinity, NaN, 2 ** -149, 3e38])
        for (const b of [1, 2 ** -127, 0.5, Infinity]) pairs.push(f32Bits(a), f32Bits(b));
      const n = pairs.length / 2;
      const got = await runTestKernel(gpu, DIVIDE_VALUE, Uint32Array.from(pairs), n, formatId(f));
      let fast = 0;
      for (let i = 0; i < n; i++) {
        if (got[i] === SLOW) continue;
        fast++;
        const a = bitsToF32(pairs[2 * i]);
        const b = bitsToF32(pairs[2 * i + 1]);
        const want = f32Bits(lowpDecode(lowpEncodeBits(f32Bits(divF32(a, b)), f), f));
        expect(got[i], `${f}: ${a} / ${b}`).toBe(want);
      }
      expect(fast / n, `${f}: share of pairs on the fast path`).toBeGreaterThan(0.5);
    }
  });

  it('GPU quantization equals the CPU bit for bit for every format × rule × block, odd shapes', async () => {
    const gpu = await gpuBackend();
    const rng = new Rng(17);
    const shapes: Array<[number, number]> = [
      [1, 1],
      [7, 33],
      [33, 130],
      [130, 7],
    ];
    for (const format of LOW_FORMATS) {
      for (const scale of SCALE_RULES) {
        for (const block of [32, 64, 128]) {
          const spec: QuantSpec = { format, scale, block };
          const [rows, cols] = shapes[rng.int(0, shapes.length - 1)];
          const x = quantInput(rng, rows, cols);
          for (const tiling of ['rows', 'blocks'] as const) {
            const qc =
              tiling === 'rows'
                ? cpu.quantizeRows(cpu.fromArray(x, [rows, cols]), spec)
                : cpu.quantizeBlocks(cpu.fromArray(x, [rows, cols]), spec);
            const xg = gpu.fromArray(x, [rows, cols]);
            const qg = tiling === 'rows' ? gpu.quantizeRows(xg, spec) : gpu.quantizeBlocks(xg, spec);
            expect(qg.codes.shape).toEqual(qc.codes.shape);
            expect(qg.scales.shape).toEqual(qc.scales.shape);
            const c = await readQ(qc);
            const g = await readQ(qg);
            const tag = `${tiling} ${format} ${scale} B=${block} [${rows},${cols}]`;
            expect(firstDiff(g.codes, c.codes), `${tag} codes`).toBe('');
            expect(firstDiff(g.scales, c.scales), `${tag} scales`).toBe('');
            const dq = await gpu.dequantize(qg).read();
            const dqc = await cpu.dequantize(qc).read();
            expect(firstDiff(dq, dqc), `${tag} dequantized`).toBe('');
            for (const t of [xg, qg.codes, qg.scales]) t.dispose();
          }
        }
      }
    }
  });

  it('saturation and underflow inside a tile; padding codes are 0; no clipping with ue8m0', async () => {
    const gpu = await gpuBackend();
    const cols = 40;
    const x = new Float64Array(cols);
    for (let i = 0; i < cols; i++) x[i] = Math.fround((i % 2 ? -1 : 1) * (1 + i / 8));
    x[3] = 1000; // the tile max
    x[5] = 1e-9; // far below the tile's smallest subnormal: → +0
    x[6] = -1e-9; // → −0
    x[7] = 0;
    for (const scale of SCALE_RULES) {
      const spec: QuantSpec = { format: 'e4m3', scale, block: 32 };
      const qg = gpu.quantizeRows(gpu.fromArray(x, [1, cols]), spec);
      const qc = cpu.quantizeRows(cpu.fromArray(x, [1, cols]), spec);
      const g = await readQ(qg);
      expect(firstDiff(g.codes, (await readQ(qc)).codes)).toBe('');
      const codes = [...new Uint8Array(g.codes.buffer)];
      expect(codes.length).toBe(64);
      expect(codes.slice(cols).every((c) => c === 0)).toBe(true);
      expect([codes[5], codes[6], codes[7]]).toEqual([0x00, 0x80, 0x00]);
      // f32 maps the max to exactly 448, ue8m0 below it (never saturates); mx's floor rule clips it.
      if (scale === 'f32') expect(codes[3]).toBe(0x7e);
      if (scale === 'ue8m0') {
        expect(codes[3]).toBeLessThan(0x7e); // 1000 / 4 = 250 → 256: not saturated
        expect(Math.abs(lowpDecode(codes[3], 'e4m3') * g.scales[0] - 1000)).toBeLessThanOrEqual(1000 / 16);
      }
      if (scale === 'mx') {
        expect(g.scales[0]).toBe(2 ** (9 - 8)); // floor(log2 1000) = 9
        expect(codes[3]).toBe(0x7e); // 1000 / 2 = 500 clips to 448
      }
    }
  });

  it('a row count past the 65535 workgroups-per-dimension limit (folded grid)', async () => {
    const gpu = await gpuBackend();
    const rng = new Rng(9);
    const rows = 66000;
    const cols = 5;
    const x = quantInput(rng, rows, cols);
    const spec: QuantSpec = { format: 'e5m2', scale: 'ue8m0', block: 32 };
    const g = await readQ(gpu.quantizeRows(gpu.fromArray(x, [rows, cols]), spec));
    const c = await readQ(cpu.quantizeRows(cpu.fromArray(x, [rows, cols]), spec));
    expect(firstDiff(g.codes, c.codes)).toBe('');
    expect(firstDiff(g.scales, c.scales)).toBe('');
  });
});
