// The bench cases. Each case has a unit of work (one matmul, one attention pass, one MoE layer,
// one training step), its counted FLOPs and bytes (flops.ts), and runners: ours, and where there
// is one, the peer (tfjs-backend-webgpu on the same adapter), our naive kernel as the floor, and
// other paths of ours worth seeing beside it ("also").
//
// A runner's run(reps) records `reps` units back to back (our runtime records into one command
// encoder; tfjs submits every few dispatches as it records) and finish() submits what is left.
// Outputs are released right after recording: our pool reuses a buffer only after the work
// that used it is submitted, and tfjs defers releases the same way.

import type { WebGPUBackend } from '../backends/webgpu/backend';
import { type KernelPaths, withKernelPaths } from '../backends/webgpu/device';
import type { AttentionShape, QuantSpec, RouteConfig } from '../engine/backend';
import * as op from '../engine/ops';
import { Rng } from '../engine/rng';
import { Scope } from '../engine/scope';
import { Tape } from '../engine/tape';
import type { Tensor } from '../engine/tensor';
import type * as TF from '@tensorflow/tfjs-core';
import { modelConfigOf, type ModelConfig } from '../model/config';
import { ffn } from '../model/model';
import { moeLayer, moeShapes } from '../model/moe';
import {
  attentionBytes,
  attentionFlops,
  blockGemmBytes,
  ffnFlops,
  matmulBytes,
  matmulFlops,
  moeBytes,
  moeFlops,
  type AttentionDims,
} from './flops';
import { matmul as matmulWith } from '../backends/webgpu/matmul';
import { naiveMatmul } from './naive';
import { browserV3, stepPresets } from './presets';
import type { SuiteContext } from './suite';
import type { TfjsPeer } from './tfjs';
import { type CaseDef, OURS, type Runner, TFJS } from './case_types';
import { trainCase } from './train_cases';

export { type CaseDef, OURS, type Runner } from './case_types';

function randomTensor(be: WebGPUBackend, rng: Rng, shape: number[], std = 1): Tensor {
  return be.fromArray(
    rng.normalArray(
      shape.reduce((a, b) => a * b, 1),
      std,
    ),
    shape,
  );
}

function tfRandom(tf: typeof TF, rng: Rng, shape: number[], std = 1): TF.Tensor {
  return tf.tensor(
    Float32Array.from(
      rng.normalArray(
        shape.reduce((a, b) => a * b, 1),
        std,
      ),
    ),
    shape,
  );
}

/** A runner whose units are recorded with some kernel paths forced (device.ts KernelPaths). */
export function onPaths(be: WebGPUBackend, r: Runner, paths: Partial<KernelPaths>, name = r.name): Runner {
  return { ...r, name, run: (reps) => withKernelPaths(be, paths, () => r.run(reps)) };
}

/** A runner of ours: `unit` records one unit and returns what to release. */
function oursRunner(be: WebGPUBackend, name: string, inputs: Tensor[], unit: () => Tensor | Tensor[] | void): Runner {
  return {
    name,
    run(reps) {
      for (let i = 0; i < reps; i++) {
        const s = new Scope();
        unit();
        s.end();
      }
    },
    finish: () => be.flush(),
    teardown() {
      for (const t of inputs) t.dispose();
    },
  };
}

function tfjsRunner(peer: TfjsPeer, inputs: TF.Tensor[], unit: () => TF.Tensor | TF.Tensor[]): Runner {
  const tf = peer.tf;
  return {
    name: TFJS,
    run(reps) {
      for (let i = 0; i < reps; i++) tf.dispose(tf.tidy(unit));
    },
    finish: () => peer.finish(),
    teardown() {
      tf.dispose(inputs);
    },
  };
}

// ---------------------------------------------------------------- matmul

function matmulCase(ctx: SuiteContext, M: number, N: number, K: number, name: string, withFloor: boolean): CaseDef {
  const { be, tfjs } = ctx;
  return {
    name,
    group: 'matmul',
    shape: `C[${M}×${N}] = A[${M}×${K}] · B[${K}×${N}], f32`,
    flops: matmulFlops(M, N, K),
    bytes: matmulBytes(M, N, K),
    ours: () => {
      const rng = new Rng(M * 7 + N);
      const a = randomTensor(be, rng, [M, K]);
      const b = randomTensor(be, rng, [K, N]);
      return oursRunner(be, OURS, [a, b], () => be.matmul(a, b, {}));
    },
    peer: tfjs
      ? () => {
          const rng = new Rng(M * 7 + N);
          const a = tfRandom(tfjs.tf, rng, [M, K]);
          const b = tfRandom(tfjs.tf, rng, [K, N]);
          return tfjsRunner(tfjs, [a, b], () => tfjs.tf.matMul(a as TF.Tensor2D, b as TF.Tensor2D));
        }
      : undefined,
    floor: withFloor
      ? () => {
          const rng = new Rng(M * 7 + N);
          const a = randomTensor(be, rng, [M, K]);
          const b = randomTensor(be, rng, [K, N]);
          return oursRunner(be, 'ours naive', [a, b], () => naiveMatmul(be, a, b));
        }
      : undefined,
  };
}

// ---------------------------------------------------------------- block-scaled FP8 GEMM

const FP8_SPEC: QuantSpec = { format: 'e4m3', block: 128, scale: 'f32' };

function fp8Case(ctx: SuiteContext, n: number): CaseDef {
  const { be, tfjs } = ctx;
  const blk = FP8_SPEC.block;
  return {
    name: `fp8_gemm_${n}`,
    group: 'fp8_gemm',
    shape: `C[${n}×${n}] = A·Bᵀ, E4M3 codes, block ${blk} (A 1×${blk} tiles, B ${blk}×${blk} blocks), f32 scales and accumulation; quantization not timed`,
    flops: matmulFlops(n, n, n),
    bytes: blockGemmBytes(n, n, n, blk),
    note: `peer: tfjs f32 matMul(A, B, transposeB) on the same product${n > 1024 ? '' : '; also: our f32 matmul (transB)'}.`,
    ours: async () => {
      const rng = new Rng(n + 3);
      const a = randomTensor(be, rng, [n, n]);
      const b = randomTensor(be, rng, [n, n]);
      const qa = be.quantizeRows(a, FP8_SPEC);
      const qb = be.quantizeBlocks(b, FP8_SPEC);
      await be.flush();
      a.dispose();
      b.dispose();
      return oursRunner(be, OURS, [qa.codes, qa.scales, qb.codes, qb.scales], () =>
        be.blockScaledMatmul(qa, qb, { mantissaBits: 0, promoteEvery: 0 }),
      );
    },
    peer: tfjs
      ? () => {
          const rng = new Rng(n + 3);
          const a = tfRandom(tfjs.tf, rng, [n, n]);
          const b = tfRandom(tfjs.tf, rng, [n, n]);
          return tfjsRunner(tfjs, [a, b], () => tfjs.tf.matMul(a as TF.Tensor2D, b as TF.Tensor2D, false, true));
        }
      : undefined,
    // Our f32 path on the same product (matmul_f32_2048 already shows the f32 kernel at 2048).
    also:
      n > 1024
        ? []
        : [
            () => {
              const rng = new Rng(n + 3);
              const a = randomTensor(be, rng, [n, n]);
              const b = randomTensor(be, rng, [n, n]);
              return oursRunner(be, 'ours f32', [a, b], () => be.matmul(a, b, { transB: true }));
            },
          ],
  };
}

// ---------------------------------------------------------------- attention

/** Head shapes of the browser-size V3 model: MHA d/H = 32; MLA q·k over nope 32 + rope 32, v 32. */
const ATTN_SHAPES: Record<'mha' | 'mla', { heads: number; dQK: number; dV: number }> = {
  mha: { heads: 8, dQK: 32, dV: 32 },
  mla: { heads: 8, dQK: 64, dV: 32 },
};

function attentionCase(ctx: SuiteContext, kind: 'mha' | 'mla', pass: 'fwd' | 'fwdbwd', T: number): CaseDef {
  const { be, tfjs } = ctx;
  const { heads: H, dQK, dV } = ATTN_SHAPES[kind];
  const dims: AttentionDims = { batch: 1, seq: T, heads: H, kvHeads: H, dQK, dV };
  const s: AttentionShape = { ...dims, scale: 1 / Math.sqrt(dQK) };
  const inputs = () => {
    const rng = new Rng(T + dQK);
    return {
      q: randomTensor(be, rng, [1, T, H, dQK]),
      k: randomTensor(be, rng, [1, T, H, dQK]),
      v: randomTensor(be, rng, [1, T, H, dV]),
      dO: randomTensor(be, rng, [1, T, H, dV]),
    };
  };
  return {
    name: `attention_${kind}_${pass}_${T}`,
    group: 'attention',
    shape: `causal, B=1 T=${T} H=${H} dQK=${dQK} dV=${dV}${kind === 'mla' ? ' (MLA: q·k over nope+rope, values of v_head_dim)' : ''}${pass === 'fwdbwd' ? ', forward + backward (dq, dk, dv)' : ', forward'}`,
    flops: attentionFlops(dims, pass),
    bytes: attentionBytes(dims, pass),
    note: 'peer: tfjs unfused (matMul, mask, softmax, matMul; tf.grads for the backward) on [B, H, T, d] inputs; floor: our unfused path (T×T scores in memory).',
    ours: () => {
      const { q, k, v, dO } = inputs();
      return oursRunner(be, OURS, [q, k, v, dO], () => {
        const { o, lse } = be.attention(q, k, v, s);
        if (pass === 'fwdbwd') be.attentionBackward(q, k, v, o, lse, dO, s);
      });
    },
    floor: () => {
      const { q, k, v, dO } = inputs();
      for (const t of [q, k, v]) t.requiresGrad = true;
      return oursRunner(be, 'ours unfused', [q, k, v, dO], () => {
        if (pass === 'fwd') return op.attentionUnfused(q, k, v, s);
        const tape = new Tape();
        const o = tape.run(() => op.attentionUnfused(q, k, v, s));
        tape.backwardFrom(o, dO);
      });
    },
    peer: tfjs
      ? () => {
          const tf = tfjs.tf;
          const rng = new Rng(T + dQK);
          const q = tfRandom(tf, rng, [1, H, T, dQK]);
          const k = tfRandom(tf, rng, [1, H, T, dQK]);
          const v = tfRandom(tf, rng, [1, H, T, dV]);
          const dO = tfRandom(tf, rng, [1, H, T, dV]);
          const m = new Float32Array(T * T);
          for (let i = 0; i < T; i++) for (let j = i + 1; j < T; j++) m[i * T + j] = -1e9;
          const mask = tf.tensor(m, [T, T]);
          const attn = (q: TF.Tensor, k: TF.Tensor, v: TF.Tensor) =>
            tf.matMul(tf.softmax(tf.add(tf.mul(tf.matMul(q, k, false, true), s.scale), mask)), v);
          const grads = tf.grads(attn as (...xs: TF.Tensor[]) => TF.Tensor);
          return tfjsRunner(tfjs, [q, k, v, dO, mask], () => (pass === 'fwd' ? attn(q, k, v) : grads([q, k, v], dO)));
        }
      : undefined,
  };
}

// ---------------------------------------------------------------- MoE vs dense FFN

function moeConfig(): ModelConfig {
  return modelConfigOf(browserV3(), 64);
}

function moeCase(ctx: SuiteContext, pass: 'fwd' | 'fwdbwd'): CaseDef {
  const { be } = ctx;
  const c = moeConfig();
  const N = browserV3().data.batch_size * browserV3().data.seq_len;
  const d = c.hidden_size;
  const E = c.n_routed_experts;
  const K = c.num_experts_per_tok;
  const S = c.n_shared_experts;
  const I = c.moe_intermediate_size;
  const denseI = (K + S) * I;
  const weights = (rng: Rng, shapes: Array<[string, number[]]>) => {
    const m = new Map<string, Tensor>();
    for (const [name, shape] of shapes) {
      const bias = name.endsWith('bias');
      const t = bias ? be.zeros(shape) : randomTensor(be, rng, shape, 0.05);
      t.requiresGrad = !bias;
      m.set(name, t);
    }
    return m;
  };
  const run = (w: Map<string, Tensor>, x: Tensor, dy: Tensor, layer: () => Tensor) => () => {
    if (pass === 'fwd') return layer();
    const tape = new Tape();
    tape.backwardFrom(tape.run(layer), dy);
  };
  const io = (rng: Rng) => {
    const x = randomTensor(be, rng, [1, N, d]);
    x.requiresGrad = true;
    return { x, dy: randomTensor(be, rng, [1, N, d]) };
  };
  return {
    name: `moe_layer_${pass}`,
    group: 'moe',
    shape: `N=${N} tokens (browser-v3's batch), d=${d}: MoE E=${E} (${c.n_group} groups, top-${c.topk_group}), top-${K}, ${S} shared, expert width ${I}, sigmoid gate${pass === 'fwdbwd' ? '; forward + backward' : ''}`,
    flops: moeFlops({ tokens: N, d, experts: E, topK: K, shared: S, I }, pass),
    bytes: moeBytes({ tokens: N, d, experts: E, topK: K, shared: S, I }, pass),
    note: `peer: OUR dense SwiGLU FFN of width ${denseI} (${(ffnFlops(N, d, denseI, pass) / 1e9).toFixed(2)} GFLOP; GFLOP/s of both count the MoE's active FLOPs): the ratio is the price of routing, dispatch, grouped GEMMs and combine over a dense layer doing the same active work.`,
    ours: () => {
      const rng = new Rng(11);
      const w = weights(rng, moeShapes(c, 'm'));
      const { x, dy } = io(rng);
      return oursRunner(
        be,
        OURS,
        [...w.values(), x, dy],
        run(w, x, dy, () => moeLayer((n) => w.get(n)!, c, 'm', x, null)),
      );
    },
    peerIsOurs: true,
    peer: () => {
      const rng = new Rng(11);
      const w = weights(rng, [
        ['d.gate_proj.weight', [denseI, d]],
        ['d.up_proj.weight', [denseI, d]],
        ['d.down_proj.weight', [d, denseI]],
      ]);
      const { x, dy } = io(rng);
      return oursRunner(
        be,
        `ours dense FFN I=${denseI}`,
        [...w.values(), x, dy],
        run(w, x, dy, () =>
          op.view(
            ffn((n) => w.get(n)!, c, 'd', op.view(x, [N, d])),
            [1, N, d],
          ),
        ),
      );
    },
  };
}

// ---------------------------------------------------------------- MoE routing

/**
 * V3's routing (256 experts in 8 groups, top-4 groups, top-8, the σ gate fused) over browser-v3's
 * batch: ours takes the subgroup entries where the adapter has subgroups (its path says so), the
 * peer is our workgroup kernel (rank counting) on the same rows.
 */
function routeCase(ctx: SuiteContext): CaseDef {
  const { be } = ctx;
  const N = browserV3().data.batch_size * browserV3().data.seq_len;
  const E = 256;
  const r: RouteConfig = { nGroup: 8, topkGroup: 4, topK: 8, normTopk: true, scale: 2.5 };
  const runner = (name: string): Runner => {
    const rng = new Rng(13);
    const logits = randomTensor(be, rng, [N, E]);
    const bias = randomTensor(be, rng, [E], 0.01);
    return oursRunner(be, name, [logits, bias], () => {
      const o = be.moeRouteSigmoid(logits, bias, r);
      return [o.idx, o.weight, o.scores];
    });
  };
  return {
    name: 'moe_route_256',
    group: 'moe',
    shape: `N=${N} tokens (browser-v3's batch), E=${E} in ${r.nGroup} groups (top-${r.topkGroup}), top-${r.topK}, σ gate fused: V3's routing`,
    flops: 0,
    // logits in, scores out, idx and weight out, the bias
    bytes: 4 * (2 * N * E + 2 * N * r.topK + E),
    note: 'peer: OUR workgroup routing kernel (every kept expert ranked against the others in workgroup memory) on the same rows; ours finds the top-K in K rounds of subgroup argmax where the adapter has subgroups (path), else it is the same kernel',
    ours: () => runner(OURS),
    peerIsOurs: true,
    peer: () => onPaths(be, runner('ours, workgroup kernel'), { subgroups: false }),
  };
}

// ---------------------------------------------------------------- the list

/** A case by name; `make` builds it (training cases construct their trainer there) only when it is run. */
export interface CaseEntry {
  name: string;
  make: () => CaseDef;
  /** Opt-in cases run only when the filter names this keyword (e.g. the tile sweep). */
  optIn?: string;
}

// ---------------------------------------------------------------- tile sweep (opt-in)

export const SWEEP = 'matmul_tiles';

/**
 * Our matmul at n² with every thread grid, K depth and load path the kernel supports, for
 * filling the per-adapter table (backends/webgpu/tuning.ts): `--filter matmul_tiles`. Layout
 * x·Wᵀ (B transposed), as in every linear layer.
 */
function sweepCases(ctx: SuiteContext, n = 1024): CaseEntry[] {
  const { be } = ctx;
  const out: CaseEntry[] = [];
  const wgMem = be.rt.limits.maxComputeWorkgroupStorageSize;
  for (const w of [8, 16]) {
    if (w * w > be.rt.limits.maxComputeInvocationsPerWorkgroup) continue;
    for (const tk of [8, 16, 32]) {
      if (tk * (2 * w + 1) * 16 * 2 > wgMem) continue;
      for (const vec4 of [false, true]) {
        const name = `${SWEEP}_${n}_${8 * w}x${8 * w}_tk${tk}_${vec4 ? 'vec4' : 'scalar'}`;
        out.push({
          name,
          optIn: SWEEP,
          make: () => ({
            name,
            group: 'matmul',
            shape: `C[${n}×${n}] = X[${n}×${n}] · W[${n}×${n}]ᵀ, f32; tiles ${8 * w}×${8 * w} (${w}×${w} threads), TK=${tk}, ${vec4 ? 'vec4' : 'scalar'} loads`,
            flops: matmulFlops(n, n, n),
            bytes: matmulBytes(n, n, n),
            ours: () => {
              const rng = new Rng(n);
              const a = randomTensor(be, rng, [n, n]);
              const b = randomTensor(be, rng, [n, n]);
              return oursRunner(be, OURS, [a, b], () =>
                matmulWith(be, a, b, { transB: true }, { wgX: w, wgY: w, tk, vec4 }),
              );
            },
          }),
        });
      }
    }
  }
  return out;
}

/** Every case, in run order. */
export function buildCases(ctx: SuiteContext): CaseEntry[] {
  const now = (d: CaseDef): CaseEntry => ({ name: d.name, make: () => d });
  const cases: CaseEntry[] = [];
  // The naive floor costs ~N× the tiled kernel's traffic: only where it stays cheap.
  for (const n of [256, 512, 1024, 2048]) cases.push(now(matmulCase(ctx, n, n, n, `matmul_f32_${n}`, n <= 512)));
  cases.push(now(matmulCase(ctx, 16, 2048, 2048, 'matmul_f32_m16_2048', true)));
  for (const n of [256, 512, 1024, 2048]) cases.push(now(fp8Case(ctx, n)));
  for (const kind of ['mha', 'mla'] as const) {
    for (const T of [128, 512])
      for (const pass of ['fwd', 'fwdbwd'] as const) cases.push(now(attentionCase(ctx, kind, pass, T)));
  }
  cases.push(now(moeCase(ctx, 'fwd')), now(moeCase(ctx, 'fwdbwd')), now(routeCase(ctx)));
  for (const p of stepPresets())
    cases.push({ name: `train_step_${p.name}`, make: () => trainCase(ctx, p.name, p.config) });
  cases.push(...sweepCases(ctx));
  return cases;
}
