// Diagnostics for the MoE layer on the bench's shapes (moe_layer_*: browser-v3's 512 tokens,
// d 256, E 16 experts of width 96, top-4, one shared expert):
//   1. where its time goes against the dense FFN of equal active width (480): every kernel of the
//      forward and of forward+backward, GPU time per pass (be.rt.profile: each dispatch submitted
//      alone), mean of 3;
//   2. the routed experts' gate+up (a grouped pair over the 2048 slots) on the scalar and the vec4
//      load paths, gathered and direct, beside dense GEMM pairs doing the same multiply-adds
//      ([2048, 256]·[96, 256]ᵀ twice) and the dense FFN's gate+up ([512, 256]·[480, 256]ᵀ twice):
//      ten dispatches per submit, median of 15;
//   3. one grouped product (the gate alone, direct rows) at the row tiles TM = 32, 64 and 128 with
//      96-wide column tiles: the cost of each expert's last, partial tile.
// Software adapters: compare the lines with each other, not with other machines.
//   node --import tsx --import ./scripts/register-raw.mjs scripts/moe-gemm-times.ts
import { createNodeBackend } from '../src/backends/webgpu/node';
import { timeMedian } from './timing';
import { groupedThreads, moeGroupedMatmul, setGroupedScalarOnly } from '../src/backends/webgpu/moe_dispatch';
import { browserV3 } from '../src/bench/presets';
import { hostPlan, randomIdx } from '../src/check/moe_dispatch';
import * as op from '../src/engine/ops';
import { Rng } from '../src/engine/rng';
import { Tape } from '../src/engine/tape';
import type { Tensor } from '../src/engine/tensor';
import { modelConfigOf } from '../src/model/config';
import { ffn } from '../src/model/model';
import { moeLayer, moeShapes } from '../src/model/moe';

const be = await createNodeBackend();
const rng = new Rng(11);
const c = modelConfigOf(browserV3(), 64);
const N = browserV3().data.batch_size * browserV3().data.seq_len;
const d = c.hidden_size;
const [E, K, I] = [c.n_routed_experts, c.num_experts_per_tok, c.moe_intermediate_size];
const denseI = (K + c.n_shared_experts) * I;
const M = N * K;
const tensor = (shape: number[], std = 1) =>
  be.fromArray(
    rng.normalArray(
      shape.reduce((p, q) => p * q, 1),
      std,
    ),
    shape,
  );
const weights = (shapes: Array<[string, number[]]>) => {
  const m = new Map<string, Tensor>();
  for (const [name, shape] of shapes) {
    const bias = name.endsWith('bias');
    const t = bias ? be.zeros(shape) : tensor(shape, 0.05);
    t.requiresGrad = !bias;
    m.set(name, t);
  }
  return m;
};

// ---- 1. the layer, kernel by kernel
const wm = weights(moeShapes(c, 'm'));
const wd = weights([
  ['d.gate_proj.weight', [denseI, d]],
  ['d.up_proj.weight', [denseI, d]],
  ['d.down_proj.weight', [d, denseI]],
]);
const x = tensor([1, N, d]);
x.requiresGrad = true;
const dy = tensor([1, N, d]);
const layers: Record<string, () => Tensor> = {
  moe: () => moeLayer((n) => wm.get(n)!, c, 'm', x, null),
  [`dense FFN ${denseI}`]: () =>
    op.view(
      ffn((n) => wd.get(n)!, c, 'd', op.view(x, [N, d])),
      [1, N, d],
    ),
};
for (const pass of ['fwd', 'fwdbwd'])
  for (const [name, layer] of Object.entries(layers)) {
    const once = async () => {
      if (pass === 'fwd') layer();
      else {
        const tape = new Tape();
        tape.backwardFrom(tape.run(layer), dy);
      }
      await be.flush();
      await be.rt.device.queue.onSubmittedWorkDone();
    };
    await once();
    be.rt.profile = new Map();
    for (let i = 0; i < 3; i++) await once();
    const rows = [...be.rt.profile.entries()].sort((a, b) => b[1].ms - a[1].ms);
    be.rt.profile = null;
    const total = rows.reduce((n, [, e]) => n + e.ms, 0) / 3;
    console.log(`${name} ${pass}: ${total.toFixed(1)} ms of kernels`);
    for (const [k, e] of rows)
      console.log(`  ${k.padEnd(52)} ${String(e.count / 3).padStart(3)}× ${(e.ms / 3).toFixed(2).padStart(7)} ms`);
  }

// ---- 2. gate+up: grouped (both load paths) against dense pairs of the same work
const time = (name: string, fn: () => Tensor[]) => timeMedian(be, name, fn, 15);
const idx = randomIdx(
  rng,
  N,
  K,
  Array.from({ length: E }, (_, e) => e),
);
const p = hostPlan(idx, E);
const plan = {
  offsets: be.fromArray(p.offsets, [E + 1], 'i32'),
  slotAssign: be.fromArray(p.slotAssign, [M], 'i32'),
  assignSlot: be.fromArray(p.assignSlot, [M], 'i32'),
};
const xt = tensor([N, d]);
const xs = be.moeGather(xt, plan, K);
const [wg, wu] = [tensor([E, I, d]), tensor([E, I, d])];
const [dg, du] = [tensor([I, d]), tensor([I, d])];
const [fg, fu] = [tensor([denseI, d]), tensor([denseI, d])];
console.log(`gate+up, ${M} slots (${N} tokens × top-${K}) over ${E} experts of ${I}, d ${d}:`);
for (const scalar of [true, false]) {
  setGroupedScalarOnly(scalar);
  const path = scalar ? 'scalar loads' : 'vec4 loads';
  await time(`grouped pair, gathered rows, ${path}`, () => be.moeGroupedMatmuls(xt, [wg, wu], plan, { K }));
  await time(`grouped pair, direct rows, ${path}`, () => be.moeGroupedMatmuls(xs, [wg, wu], plan));
}
setGroupedScalarOnly(false);
const pair = (a: Tensor, b1: Tensor, b2: Tensor) =>
  be.matmuls([
    { a, b: b1, opts: { transB: true } },
    { a, b: b2, opts: { transB: true } },
  ]);
await time(`dense pair [${M}, ${d}]·[${I}, ${d}]ᵀ (the same work)`, () => pair(xs, dg, du));
await time(`dense pair [${N}, ${d}]·[${denseI}, ${d}]ᵀ (the FFN's)`, () => pair(xt, fg, fu));

// ---- 3. row tiles
console.log(
  `one grouped product [${M}, ${d}]·[${I}, ${d}]ᵀ per expert (the automatic grid: ${JSON.stringify(groupedThreads(M, I, E))}):`,
);
for (const wgY of [4, 8, 16])
  await time(`row tiles TM = ${8 * wgY}, 96-wide column tiles`, () => [
    moeGroupedMatmul(be, xs, wg, plan, true, { wgX: 12, wgY }),
  ]);
process.exit(0);
