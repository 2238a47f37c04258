import { createNodeBackend } from '../src/backends/webgpu/node';
import { Rng } from '../src/engine/rng';
import type { Tensor } from '../src/engine/tensor';
const be = await createNodeBackend();
async function time(name: string, fn: () => Tensor[], reps = 20) {
  const run = async () => {
    const t0 = performance.now();
    const outs: Tensor[] = [];
    for (let i = 0; i < 10; i++) outs.push(...fn());
    await be.flush();
    await be.rt.device.queue.onSubmittedWorkDone();
    const ms = (performance.now() - t0) / 10;
    for (const o of outs) o.dispose();
    return ms;
  };
  await run();
  const xs: number[] = [];
  for (let i = 0; i < reps; i++) xs.push(await run());
  xs.sort((a, b) => a - b);
  console.log(name.padEnd(40), xs[Math.floor(reps / 2)].toFixed(3), 'ms');
}
const rng = new Rng(1);
const [B, T, H, d] = [8, 64, 4, 16];
const q = be.fromArray(rng.normalArray(B * T * H * d), [B, T, H, d]);
const k = be.fromArray(rng.normalArray(B * T * H * d), [B, T, H, d]);
const v = be.fromArray(rng.normalArray(B * T * H * d), [B, T, H, d]);
const s = { batch: B, seq: T, heads: H, kvHeads: H, dQK: d, dV: d, scale: 0.25 };
const { o, lse } = be.attention(q, k, v, s);
await time('attention fwd micro', () => { const r = be.attention(q, k, v, s); return [r.o, r.lse]; });
await time('attention bwd micro', () => { const r = be.attentionBackward(q, k, v, o, lse, o, s); return [r.dq, r.dk, r.dv]; });
for (const [dqk, dv] of [[24, 16], [64, 32], [32, 32]]) {
  const T2 = dqk === 24 ? 64 : 128;
  const q2 = be.fromArray(rng.normalArray(B * T2 * H * dqk), [B, T2, H, dqk]);
  const k2 = be.fromArray(rng.normalArray(B * T2 * H * dqk), [B, T2, H, dqk]);
  const v2 = be.fromArray(rng.normalArray(B * T2 * H * dv), [B, T2, H, dv]);
  const s2 = { batch: B, seq: T2, heads: H, kvHeads: H, dQK: dqk, dV: dv, scale: 0.25 };
  const r2 = be.attention(q2, k2, v2, s2);
  await time(`attention bwd T${T2} ${dqk}/${dv}`, () => { const r = be.attentionBackward(q2, k2, v2, r2.o, r2.lse, r2.o, s2); return [r.dq, r.dk, r.dv]; });
}
const x = be.fromArray(rng.normalArray(512 * 64), [512, 64]);
const w = be.fromArray(rng.normalArray(64 * 192), [192, 64]);
await time('matmul 512x64 . 192x64T', () => [be.matmul(x, w, { transB: true })]);
process.exit(0);
