// The WebGPU backend: each op records one or more WGSL dispatches on the runtime; flush()
// encodes them into a single command encoder. Tensors own pooled GPU buffers.
// One file per op family (matmul.ts, attention.ts, …) with its WGSL in shaders/.

import type { AccumSpec, AdamWParams, AttentionShape, Backend, MatmulOpts, MoePlan, QTensor, QuantSpec, RouteConfig } from '../../engine/backend';
import { Tensor, sizeOf, type DType, type Shape } from '../../engine/tensor';
import * as activation from './activation';
import * as adamwOps from './adamw';
import * as attentionOps from './attention';
import { acquireDevice } from './device';
import * as elementwise from './elementwise';
import * as embeddingOps from './embedding';
import * as fp8Ops from './fp8';
import * as fp8GemmOps from './fp8_gemm';
import * as layoutOps from './layout';
import * as matmulOps from './matmul';
import * as moeAuxOps from './moe_aux';
import * as moeDispatchOps from './moe_dispatch';
import * as moeRouteOps from './moe_route';
import * as reduceOps from './reduce';
import * as rmsnormOps from './rmsnorm';
import * as ropeOps from './rope';
import { GpuRuntime } from './runtime';
import * as softmaxOps from './softmax';
import * as xentOps from './xent';

interface GpuStorage {
  buffer: GPUBuffer;
  /** False for views: releasing them frees nothing. */
  owner: boolean;
}

export class WebGPUBackend implements Backend {
  readonly name = 'webgpu' as const;

  constructor(readonly rt: GpuRuntime) {}

  static async create(gpu: GPU | undefined): Promise<WebGPUBackend> {
    return new WebGPUBackend(new GpuRuntime(await acquireDevice(gpu)));
  }

  get deviceLabel(): string {
    return this.rt.adapterLabel;
  }

  /** The buffer behind a tensor (for binding in a dispatch). */
  buf(t: Tensor): GPUBuffer {
    if (t.disposed) throw new Error(`webgpu: ${t} used after dispose`);
    return (t.storage as GpuStorage).buffer;
  }

  /** A new tensor with uninitialized (pooled) storage; a kernel must write all of it. */
  empty(shape: Shape, dtype: DType = 'f32'): Tensor {
    const bytes = Math.max(4, sizeOf(shape) * 4);
    const buffer = this.rt.pool.acquire(bytes);
    return new Tensor(this, shape, dtype, { buffer, owner: true } satisfies GpuStorage);
  }

  zeros(shape: Shape, dtype: DType = 'f32'): Tensor {
    const t = this.empty(shape, dtype);
    const buf = this.buf(t);
    this.rt.write(buf, new Uint8Array(buf.size));
    return t;
  }

  fromArray(data: ArrayLike<number>, shape: Shape, dtype: DType = 'f32'): Tensor {
    const n = sizeOf(shape);
    if (data.length !== n) throw new Error(`webgpu: ${data.length} values for shape [${shape}]`);
    const t = this.empty(shape, dtype);
    const host = dtype === 'i32' ? Int32Array.from(data) : Float32Array.from(data);
    if (n > 0) this.rt.write(this.buf(t), host);
    return t;
  }

  view(t: Tensor, shape: Shape): Tensor {
    if (sizeOf(shape) !== t.size) throw new Error(`webgpu: cannot view [${t.shape}] as [${shape}]`);
    return new Tensor(this, shape, t.dtype, { buffer: this.buf(t), owner: false } satisfies GpuStorage);
  }

  async read(t: Tensor): Promise<Float64Array | Int32Array> {
    if (t.size === 0) return t.dtype === 'i32' ? new Int32Array(0) : new Float64Array(0);
    const bytes = await this.rt.readBuffer(this.buf(t), t.size * 4);
    return t.dtype === 'i32' ? new Int32Array(bytes) : Float64Array.from(new Float32Array(bytes));
  }

  release(t: Tensor): void {
    const s = t.storage as GpuStorage;
    if (s.owner) this.rt.pool.release(s.buffer);
  }

  flush(): Promise<void> {
    return this.rt.flush();
  }

  matmul(a: Tensor, b: Tensor, opts: MatmulOpts): Tensor {
    return matmulOps.matmul(this, a, b, opts);
  }
  add(a: Tensor, b: Tensor): Tensor {
    return elementwise.add(this, a, b);
  }
  mul(a: Tensor, b: Tensor): Tensor {
    return elementwise.mul(this, a, b);
  }
  scale(a: Tensor, s: number): Tensor {
    return elementwise.scale(this, a, s);
  }
  addInPlace(dst: Tensor, src: Tensor): void {
    elementwise.addInPlace(this, dst, src);
  }
  broadcastScalar(s: Tensor, shape: Shape, factor: number): Tensor {
    return elementwise.broadcastScalar(this, s, shape, factor);
  }
  sum(a: Tensor): Tensor {
    return reduceOps.sum(this, a);
  }
  sumSquares(ts: Tensor[]): Tensor {
    return reduceOps.sumSquares(this, ts);
  }
  embedding(table: Tensor, ids: Tensor): Tensor {
    return embeddingOps.embedding(this, table, ids);
  }
  embeddingBackward(ids: Tensor, dOut: Tensor, vocab: number): Tensor {
    return embeddingOps.embeddingBackward(this, ids, dOut, vocab);
  }
  rmsnorm(x: Tensor, w: Tensor, eps: number): { y: Tensor; rstd: Tensor } {
    return rmsnormOps.rmsnorm(this, x, w, eps);
  }
  rmsnormBackward(x: Tensor, w: Tensor, rstd: Tensor, dy: Tensor): { dx: Tensor; dw: Tensor } {
    return rmsnormOps.rmsnormBackward(this, x, w, rstd, dy);
  }
  rope(x: Tensor, theta: number, posOffset: number, inverse: boolean): Tensor {
    return ropeOps.rope(this, x, theta, posOffset, inverse);
  }
  attention(q: Tensor, k: Tensor, v: Tensor, s: AttentionShape): { o: Tensor; lse: Tensor } {
    return attentionOps.attention(this, q, k, v, s);
  }
  attentionBackward(q: Tensor, k: Tensor, v: Tensor, o: Tensor, lse: Tensor, dO: Tensor, s: AttentionShape): { dq: Tensor; dk: Tensor; dv: Tensor } {
    return attentionOps.attentionBackward(this, q, k, v, o, lse, dO, s);
  }
  softmax(x: Tensor, causalOffset: number | null): Tensor {
    return softmaxOps.softmax(this, x, causalOffset);
  }
  softmaxBackward(y: Tensor, dy: Tensor): Tensor {
    return softmaxOps.softmaxBackward(this, y, dy);
  }
  sliceLast(x: Tensor, start: number, len: number): Tensor {
    return layoutOps.sliceLast(this, x, start, len);
  }
  padLast(x: Tensor, start: number, total: number): Tensor {
    return layoutOps.padLast(this, x, start, total);
  }
  concatLast(a: Tensor, b: Tensor): Tensor {
    return layoutOps.concatLast(this, a, b);
  }
  swap01(x: Tensor): Tensor {
    return layoutOps.swap01(this, x);
  }
  silu(x: Tensor): Tensor {
    return activation.silu(this, x);
  }
  siluBackward(x: Tensor, dy: Tensor): Tensor {
    return activation.siluBackward(this, x, dy);
  }
  swiglu(g: Tensor, u: Tensor): Tensor {
    return activation.swiglu(this, g, u);
  }
  swigluBackward(g: Tensor, u: Tensor, dy: Tensor): { dg: Tensor; du: Tensor } {
    return activation.swigluBackward(this, g, u, dy);
  }
  sigmoid(x: Tensor): Tensor {
    return moeRouteOps.sigmoid(this, x);
  }
  sigmoidBackward(y: Tensor, dy: Tensor): Tensor {
    return moeRouteOps.sigmoidBackward(this, y, dy);
  }
  moeRoute(scores: Tensor, bias: Tensor, r: RouteConfig): { idx: Tensor; weight: Tensor } {
    return moeRouteOps.moeRoute(this, scores, bias, r);
  }
  moeRouteBackward(scores: Tensor, idx: Tensor, dWeight: Tensor, r: RouteConfig): Tensor {
    return moeRouteOps.moeRouteBackward(this, scores, idx, dWeight, r);
  }
  moePlan(idx: Tensor, experts: number): MoePlan {
    return moeRouteOps.moePlan(this, idx, experts);
  }
  moeBiasUpdate(bias: Tensor, offsets: Tensor, gamma: number): void {
    moeRouteOps.moeBiasUpdate(this, bias, offsets, gamma);
  }
  moeGather(x: Tensor, plan: MoePlan, K: number): Tensor {
    return moeDispatchOps.moeGather(this, x, plan, K);
  }
  moeGatherBackward(dy: Tensor, plan: MoePlan, K: number): Tensor {
    return moeDispatchOps.moeGatherBackward(this, dy, plan, K);
  }
  moeGroupedMatmul(x: Tensor, w: Tensor, plan: MoePlan, transW: boolean): Tensor {
    return moeDispatchOps.moeGroupedMatmul(this, x, w, plan, transW);
  }
  moeGroupedWeightGrad(dy: Tensor, x: Tensor, plan: MoePlan, experts: number): Tensor {
    return moeDispatchOps.moeGroupedWeightGrad(this, dy, x, plan, experts);
  }
  moeCombine(y: Tensor, weight: Tensor, plan: MoePlan): Tensor {
    return moeDispatchOps.moeCombine(this, y, weight, plan);
  }
  moeCombineBackward(y: Tensor, weight: Tensor, plan: MoePlan, dOut: Tensor): { dy: Tensor; dWeight: Tensor } {
    return moeDispatchOps.moeCombineBackward(this, y, weight, plan, dOut);
  }
  moeAuxLoss(scores: Tensor, idx: Tensor): Tensor {
    return moeAuxOps.moeAuxLoss(this, scores, idx);
  }
  moeAuxLossBackward(scores: Tensor, idx: Tensor, dL: Tensor): Tensor {
    return moeAuxOps.moeAuxLossBackward(this, scores, idx, dL);
  }
  quantizeRows(x: Tensor, spec: QuantSpec): QTensor {
    return fp8Ops.quantizeRows(this, x, spec);
  }
  quantizeBlocks(w: Tensor, spec: QuantSpec): QTensor {
    return fp8Ops.quantizeBlocks(this, w, spec);
  }
  dequantize(q: QTensor): Tensor {
    return fp8Ops.dequantize(this, q);
  }
  blockScaledMatmul(a: QTensor, b: QTensor, accum: AccumSpec): Tensor {
    return fp8GemmOps.blockScaledMatmul(this, a, b, accum);
  }
  crossEntropy(logits: Tensor, targets: Tensor): { loss: Tensor; lse: Tensor } {
    return xentOps.crossEntropy(this, logits, targets);
  }
  crossEntropyBackward(logits: Tensor, targets: Tensor, lse: Tensor, dloss: Tensor): Tensor {
    return xentOps.crossEntropyBackward(this, logits, targets, lse, dloss);
  }
  adamw(param: Tensor, grad: Tensor, m: Tensor, v: Tensor, hp: AdamWParams, clip: { normSq: Tensor; maxNorm: number } | null): void {
    adamwOps.adamw(this, param, grad, m, v, hp, clip);
  }
}
