// The MoE layer against a dense SwiGLU FFN with the same active parameters per token
// (intermediate = (K + n_shared)·moe_intermediate_size), forward and forward+backward, in one
// process on one adapter.
//   node --import tsx --import ./scripts/register-raw.mjs scripts/moe-vs-dense.ts
import { createNodeBackend } from '../src/backends/webgpu/node';
import * as op from '../src/engine/ops';
import { Rng } from '../src/engine/rng';
import { Scope } from '../src/engine/scope';
import { Tape } from '../src/engine/tape';
import type { Tensor } from '../src/engine/tensor';
import { findPreset } from '../src/config';
import { modelConfigOf, type ModelConfig } from '../src/model/config';
import { ffn } from '../src/model/model';
import { moeLayer, moeShapes } from '../src/model/moe';

const be = await createNodeBackend();
const rng = new Rng(1);
const c: ModelConfig = {
  ...modelConfigOf(findPreset('micro-moe')!.config, 32),
  hidden_size: 128,
  n_routed_experts: 16,
  n_group: 4,
  topk_group: 2,
  num_experts_per_tok: 2,
  n_shared_experts: 1,
  moe_intermediate_size: 64,
};
const N = 2048;
const d = c.hidden_size;
const denseI = (c.num_experts_per_tok + c.n_shared_experts) * c.moe_intermediate_size;

function weights(shapes: Array<[string, number[]]>): Map<string, Tensor> {
  const m = new Map<string, Tensor>();
  for (const [name, shape] of shapes) {
    const n = shape.reduce((a, b) => a * b, 1);
    const t = be.fromArray(name.endsWith('bias') ? new Float64Array(n) : rng.normalArray(n, 0.05), shape);
    t.requiresGrad = !name.endsWith('bias');
    m.set(name, t);
  }
  return m;
}
const moeW = weights(moeShapes(c, 'm'));
const denseW = weights([
  ['d.gate_proj.weight', [denseI, d]],
  ['d.up_proj.weight', [denseI, d]],
  ['d.down_proj.weight', [d, denseI]],
]);
const x = be.fromArray(rng.normalArray(N * d), [1, N, d]);
x.requiresGrad = true;
const dy = be.fromArray(rng.normalArray(N * d), [1, N, d]);
const moe = () => moeLayer((n) => moeW.get(n)!, c, 'm', x, null);
const dense = () =>
  op.view(
    ffn((n) => denseW.get(n)!, c, 'd', op.view(x, [N, d])),
    [1, N, d],
  );

async function time(fn: () => void, reps = 7): Promise<number> {
  const run = async () => {
    const s = new Scope();
    const t0 = performance.now();
    fn();
    await be.flush();
    await be.rt.device.queue.onSubmittedWorkDone();
    s.end();
    return performance.now() - t0;
  };
  await run();
  const xs: number[] = [];
  for (let i = 0; i < reps; i++) xs.push(await run());
  return xs.sort((a, b) => a - b)[Math.floor(reps / 2)];
}
const fb = (f: () => Tensor) => () => {
  const tape = new Tape();
  tape.backwardFrom(tape.run(f), dy);
};
const mf = await time(moe);
const df = await time(dense);
const mb = await time(fb(moe));
const db = await time(fb(dense));
console.log(`adapter: ${be.deviceLabel}`);
console.log(
  `N=${N} d=${d}: MoE E=${c.n_routed_experts} K=${c.num_experts_per_tok} shared=${c.n_shared_experts} I=${c.moe_intermediate_size} vs dense FFN I=${denseI} (equal active params)`,
);
console.log(`forward:          MoE ${mf.toFixed(2)} ms, dense ${df.toFixed(2)} ms, MoE/dense ${(mf / df).toFixed(2)}`);
console.log(`forward+backward: MoE ${mb.toFixed(2)} ms, dense ${db.toFixed(2)} ms, MoE/dense ${(mb / db).toFixed(2)}`);
process.exit(0);
