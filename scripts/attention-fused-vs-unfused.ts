// Fused (flash-style) causal attention vs the unfused baseline (scores matmul → masked softmax →
// values matmul, T×T scores in memory), forward and backward, same process and adapter.
//   node --import tsx --import ./scripts/register-raw.mjs scripts/attention-fused-vs-unfused.ts [T...]
import { createNodeBackend } from '../src/backends/webgpu/node';
import type { AttentionShape } from '../src/engine/backend';
import * as op from '../src/engine/ops';
import { Rng } from '../src/engine/rng';
import { Scope } from '../src/engine/scope';
import { Tape } from '../src/engine/tape';

const be = await createNodeBackend();
const seqs = process.argv
  .slice(2)
  .map(Number)
  .filter((n) => n > 0);
const rng = new Rng(1);

async function time(fn: () => void, reps = 5): Promise<number> {
  const run = async () => {
    const s = new Scope();
    const t0 = performance.now();
    fn();
    await be.flush();
    await be.rt.device.queue.onSubmittedWorkDone();
    const ms = performance.now() - t0;
    s.end();
    return ms;
  };
  await run(); // warm-up: compile pipelines
  const xs: number[] = [];
  for (let i = 0; i < reps; i++) xs.push(await run());
  xs.sort((a, b) => a - b);
  return xs[Math.floor(reps / 2)];
}

console.log(`adapter: ${be.deviceLabel}`);
console.log('    T | fwd fused ms | fwd unfused ms | unfused/fused | f+b fused ms | f+b unfused ms | unfused/fused');
for (const T of seqs.length ? seqs : [128, 256]) {
  const H = 4;
  const d = 32;
  const s: AttentionShape = { batch: 1, seq: T, heads: H, kvHeads: H, dQK: d, dV: d, scale: 1 / Math.sqrt(d) };
  const q = be.fromArray(rng.normalArray(T * H * d), [1, T, H, d]);
  const k = be.fromArray(rng.normalArray(T * H * d), [1, T, H, d]);
  const v = be.fromArray(rng.normalArray(T * H * d), [1, T, H, d]);
  const dO = be.fromArray(rng.normalArray(T * H * d), [1, T, H, d]);
  for (const t of [q, k, v]) t.requiresGrad = true;
  const fwdBwd = (f: typeof op.attention) => () => {
    const tape = new Tape();
    const o = tape.run(() => f(q, k, v, s));
    tape.backwardFrom(o, dO);
  };
  const ff = await time(() => op.attention(q, k, v, s));
  const fu = await time(() => op.attentionUnfused(q, k, v, s));
  const bf = await time(fwdBwd(op.attention));
  const bu = await time(fwdBwd(op.attentionUnfused));
  console.log(
    `${String(T).padStart(5)} | ${ff.toFixed(2).padStart(12)} | ${fu.toFixed(2).padStart(14)} | ${(fu / ff).toFixed(2).padStart(13)} | ${bf.toFixed(2).padStart(12)} | ${bu.toFixed(2).padStart(14)} | ${(bu / bf).toFixed(2).padStart(13)}`,
  );
}
process.exit(0);
