// MoE routing on the GPU: the sigmoid gate (shaders/moe_route_sigmoid.wgsl), group-limited
// top-K routing forward/backward (shaders/moe_route.wgsl, which also has both fused with the
// gate: one dispatch each way; its forward entries on subgroups, moe_route_subgroup.wgsl, where
// the device has them), the deterministic dispatch plan (shaders/moe_route_plan.wgsl)
// and the loss-free-balancing bias update (shaders/moe_bias_update.wgsl: every layer of a step in
// one dispatch). The shaders explain the algorithms; this file picks launch shapes and allocates
// outputs.

import biasManySrc from '../../../shaders/moe_bias_update.wgsl?raw';
import routeSrc from '../../../shaders/moe_route.wgsl?raw';
import routeSubgroupSrc from '../../../shaders/moe_route_subgroup.wgsl?raw';
import planSrc from '../../../shaders/moe_route_plan.wgsl?raw';
import sigmoidSrc from '../../../shaders/moe_route_sigmoid.wgsl?raw';
import type { MoePlan, RouteConfig } from '../../engine/backend';
import type { Tensor } from '../../engine/tensor';
import type { WebGPUBackend, WebGPUFamily } from './backend';
import { subgroupLanes } from './device';
import { scalarVariant, vec4Ok } from './elementwise';
import type { Kernel } from './pipelines';
import { type Bindable, grid1d, packUniforms } from './runtime';
import { instantiate, section } from './template';

// ---- sigmoid ----

const EW_WG = 256;
const SIGMOID_SRC1 = scalarVariant(sigmoidSrc);
const SIGMOID = {
  v4: { name: 'moe_route_sigmoid', code: sigmoidSrc, entry: 'sigmoid' } as Kernel,
  v1: { name: 'moe_route_sigmoid_f32', code: SIGMOID_SRC1, entry: 'sigmoid' } as Kernel,
};
const SIGMOID_BWD = {
  v4: { name: 'moe_route_sigmoid', code: sigmoidSrc, entry: 'sigmoid_bwd' } as Kernel,
  v1: { name: 'moe_route_sigmoid_f32', code: SIGMOID_SRC1, entry: 'sigmoid_bwd' } as Kernel,
};

/** One elementwise dispatch over n floats: vec4-wide when every buffer allows it. */
function elementwise(be: WebGPUBackend, k: { v4: Kernel; v1: Kernel }, n: number, bufs: Bindable[]): void {
  if (n === 0) return;
  const v4 = vec4Ok(bufs);
  const count = v4 ? Math.ceil(n / 4) : n;
  be.rt.record({
    kernel: v4 ? k.v4 : k.v1,
    overrides: { WG: EW_WG },
    buffers: bufs,
    uniform: packUniforms('u', [count]),
    workgroups: grid1d(count, EW_WG, be.rt.limits.maxComputeWorkgroupsPerDimension),
  });
}

export function sigmoid(be: WebGPUBackend, x: Tensor): Tensor {
  const y = be.empty(x.shape);
  elementwise(be, SIGMOID, x.size, [be.buf(x), be.buf(y)]);
  return y;
}

export function sigmoidBackward(be: WebGPUBackend, y: Tensor, dy: Tensor): Tensor {
  const dx = be.empty(y.shape);
  elementwise(be, SIGMOID_BWD, y.size, [be.buf(y), be.buf(dy), be.buf(dx)]);
  return dx;
}

// ---- routing ----

const ROUTE: Kernel = { name: 'moe_route', code: routeSrc, entry: 'route' };
/** moe_route.wgsl with the subgroup entries appended (shaders/moe_route_subgroup.wgsl). */
const ROUTE_SUBGROUP_SRC = `enable subgroups;\ndiagnostic(off, subgroup_uniformity);\n${routeSrc}\n${routeSubgroupSrc}`;
const ROUTE_SUBGROUP: Kernel = { name: 'moe_route_subgroup', code: ROUTE_SUBGROUP_SRC, entry: 'route_subgroup' };
const ROUTE_SIGMOID_SUBGROUP: Kernel = {
  name: 'moe_route_subgroup',
  code: ROUTE_SUBGROUP_SRC,
  entry: 'route_sigmoid_subgroup',
};
const ROUTE_BWD: Kernel = { name: 'moe_route', code: routeSrc, entry: 'route_bwd' };
const ROUTE_SIGMOID: Kernel = { name: 'moe_route', code: routeSrc, entry: 'route_sigmoid' };
const ROUTE_SIGMOID_BWD: Kernel = { name: 'moe_route', code: routeSrc, entry: 'route_sigmoid_bwd' };
const ROUTE_SIGMOID_BWD_EXTRA: Kernel = { name: 'moe_route', code: routeSrc, entry: 'route_sigmoid_bwd_extra' };
/** Threads per routing workgroup (rows × threads per row). */
const ROUTE_WG = 64;
const BWD_WG = 256;

/**
 * Launch shape of the routing kernel for E experts: TPR threads per token row (E rounded up to a
 * power of two, at most ROUTE_WG) and ROUTE_WG / TPR rows per workgroup; CAP workgroup slots per
 * array (≥ ROWS·E; 256 covers every E ≤ 256 with one pipeline per TPR).
 */
function routeShape(E: number): { TPR: number; ROWS: number; CAP: number } {
  const TPR = Math.min(ROUTE_WG, 2 ** Math.ceil(Math.log2(Math.max(1, E))));
  const ROWS = ROUTE_WG / TPR;
  const CAP = Math.max(256, Math.ceil((ROWS * E) / 64) * 64);
  return { TPR, ROWS, CAP };
}

/** Invocations per workgroup of the subgroup entries: a multiple of every subgroup size (4 … 128). */
const ROUTE_SG_WG = 128;
/** Most token rows a subgroup-routing workgroup stages (its subgroups share them out). */
const ROUTE_SG_ROWS = 16;
/** Workgroup memory the subgroup entries' two row arrays may take (the browser's default limit is 16 KiB). */
const ROUTE_SG_BYTES = 12288;
/** Most expert groups the subgroup entries take (their kept groups are a 64-bit mask). */
const ROUTE_SG_GROUPS = 64;

/** Which routing kernel this backend takes for G groups: the subgroup entries where the device has `subgroups` and the paths allow. */
export function routePath(be: WebGPUBackend, nGroup: number): 'subgroup' | 'workgroup' {
  return subgroupLanes(be) !== null && nGroup <= ROUTE_SG_GROUPS ? 'subgroup' : 'workgroup';
}

/**
 * Records one routing dispatch over N rows of E experts: `route` (buffers: scores, bias, idx,
 * weight) or `route_sigmoid` (logits, bias, idx, weight, scores), or their subgroup entries
 * (routePath). The workgroup kernels hold `arrays` CAP-slot arrays of 4 bytes in workgroup
 * memory (four; five with sig), the subgroup ones two (sel, sig) of CAP ≥ ROWS·E slots and a
 * counter.
 */
function recordRoute(
  be: WebGPUBackend,
  op: string,
  kernels: { workgroup: Kernel; subgroup: Kernel },
  arrays: number,
  [N, E]: readonly number[],
  r: RouteConfig,
  bufs: Bindable[],
): void {
  const subgroup = routePath(be, r.nGroup) === 'subgroup';
  let overrides: Record<string, number>;
  let rows: number;
  let wgBytes: number;
  if (subgroup) {
    // sel and sig (4 bytes per slot each) and the subgroup counter (16 bytes, as every variable).
    // A power of two, so that the rows share out evenly over the workgroup's subgroups.
    rows = 2 ** Math.floor(Math.log2(Math.max(1, Math.min(ROUTE_SG_ROWS, Math.floor(ROUTE_SG_BYTES / (8 * E))))));
    const CAP = Math.ceil((rows * E) / 64) * 64;
    overrides = { WG: ROUTE_SG_WG, ROWS: rows, CAP };
    wgBytes = 2 * 4 * CAP + 16;
  } else {
    const { TPR, ROWS, CAP } = routeShape(E);
    overrides = { WG: ROUTE_WG, TPR, ROWS, CAP };
    rows = ROWS;
    wgBytes = arrays * 4 * CAP;
  }
  if (wgBytes > be.rt.limits.maxComputeWorkgroupStorageSize) {
    throw new Error(
      `${op}: ${E} experts need ${wgBytes} bytes of workgroup memory; this device allows ${be.rt.limits.maxComputeWorkgroupStorageSize}`,
    );
  }
  be.rt.record({
    kernel: subgroup ? kernels.subgroup : kernels.workgroup,
    overrides,
    buffers: bufs,
    uniform: packUniforms('uuuuuuf', [N, E, r.nGroup, r.topkGroup, r.topK, r.normTopk ? 1 : 0, r.scale]),
    workgroups: grid1d(Math.ceil(N / rows), 1, be.rt.limits.maxComputeWorkgroupsPerDimension),
  });
}

export function moeRoute(
  be: WebGPUBackend,
  scores: Tensor,
  bias: Tensor,
  r: RouteConfig,
): { idx: Tensor; weight: Tensor } {
  const [N] = scores.shape;
  const K = r.topK;
  const idx = be.empty([N, K], 'i32');
  const weight = be.empty([N, K]);
  if (N === 0 || K === 0) return { idx, weight };
  recordRoute(be, 'moeRoute', { workgroup: ROUTE, subgroup: ROUTE_SUBGROUP }, 4, scores.shape, r, [
    be.buf(scores),
    be.buf(bias),
    be.buf(idx),
    be.buf(weight),
  ]);
  return { idx, weight };
}

/** σ and routing in one dispatch (route_sigmoid): the bits of sigmoid, then moeRoute. */
export function moeRouteSigmoid(
  be: WebGPUBackend,
  logits: Tensor,
  bias: Tensor,
  r: RouteConfig,
): { idx: Tensor; weight: Tensor; scores: Tensor } {
  const [N] = logits.shape;
  const K = r.topK;
  const idx = be.empty([N, K], 'i32');
  const weight = be.empty([N, K]);
  if (N === 0 || K === 0) return { idx, weight, scores: sigmoid(be, logits) };
  const scores = be.empty(logits.shape);
  const bufs = [be.buf(logits), be.buf(bias), be.buf(idx), be.buf(weight), be.buf(scores)];
  recordRoute(
    be,
    'moeRouteSigmoid',
    { workgroup: ROUTE_SIGMOID, subgroup: ROUTE_SIGMOID_SUBGROUP },
    5,
    logits.shape,
    r,
    bufs,
  );
  return { idx, weight, scores };
}

/** One backward dispatch over the N·E elements of scores: route_bwd or a route_sigmoid_bwd entry. */
function recordRouteBackward(
  be: WebGPUBackend,
  kernel: Kernel,
  scores: Tensor,
  r: RouteConfig,
  bufs: Bindable[],
): void {
  const count = scores.size;
  be.rt.record({
    kernel,
    overrides: { WG: BWD_WG },
    buffers: bufs,
    uniform: packUniforms('uuuuf', [count, scores.shape[1], r.topK, r.normTopk ? 1 : 0, r.scale]),
    workgroups: grid1d(count, BWD_WG, be.rt.limits.maxComputeWorkgroupsPerDimension),
  });
}

export function moeRouteBackward(
  be: WebGPUBackend,
  scores: Tensor,
  idx: Tensor,
  dWeight: Tensor,
  r: RouteConfig,
): Tensor {
  const dScores = be.empty(scores.shape);
  if (scores.size === 0) return dScores;
  recordRouteBackward(be, ROUTE_BWD, scores, r, [be.buf(scores), be.buf(idx), be.buf(dWeight), be.buf(dScores)]);
  return dScores;
}

/**
 * dLogits of moeRouteSigmoid in one dispatch: (route_bwd's dScores [+ dScores]) · y · (1 − y),
 * y = scores. dScores: the gradient that reached the scores from elsewhere (null: none).
 */
export function moeRouteSigmoidBackward(
  be: WebGPUBackend,
  scores: Tensor,
  idx: Tensor,
  dWeight: Tensor,
  r: RouteConfig,
  dScores?: Tensor | null,
): Tensor {
  const dLogits = be.empty(scores.shape);
  if (scores.size === 0) return dLogits;
  const bufs = [be.buf(scores), be.buf(idx), be.buf(dWeight), be.buf(dLogits)];
  if (dScores) recordRouteBackward(be, ROUTE_SIGMOID_BWD_EXTRA, scores, r, [...bufs, be.buf(dScores)]);
  else recordRouteBackward(be, ROUTE_SIGMOID_BWD, scores, r, bufs);
  return dLogits;
}

// ---- dispatch plan and bias update ----

/** Assignments per chunk in the plan kernels (= threads per workgroup). */
const PLAN_WG = 256;
const PLAN_COUNT: Kernel = { name: 'moe_route_plan', code: planSrc, entry: 'plan_count' };
const PLAN_SMALL: Kernel = { name: 'moe_route_plan', code: planSrc, entry: 'plan_small' };
/** The one-workgroup plan takes up to this many chunks of PLAN_WG assignments (and E ≤ PLAN_WG). */
const SMALL_CHUNKS = 16;

/** Which plan kernel(s) a problem takes: one workgroup for small ones, else the four passes. */
export function planPath(M: number, E: number): 'small' | 'passes' {
  return M <= SMALL_CHUNKS * PLAN_WG && E <= PLAN_WG ? 'small' : 'passes';
}
const PLAN_SCAN: Kernel = { name: 'moe_route_plan', code: planSrc, entry: 'plan_scan' };
const PLAN_OFFSETS: Kernel = { name: 'moe_route_plan', code: planSrc, entry: 'plan_offsets' };
const PLAN_SCATTER: Kernel = { name: 'moe_route_plan', code: planSrc, entry: 'plan_scatter' };

/** `path` overrides planPath (tests: both give the same plan). */
export function moePlan(be: WebGPUBackend, idx: Tensor, experts: number, path?: 'small' | 'passes'): MoePlan {
  const M = idx.size;
  const E = experts;
  const offsets = M === 0 ? be.zeros([E + 1], 'i32') : be.empty([E + 1], 'i32');
  const slotAssign = be.empty([M], 'i32');
  const assignSlot = be.empty([M], 'i32');
  if (M === 0) return { offsets, slotAssign, assignSlot };
  const P = Math.ceil(M / PLAN_WG);
  if ((path ?? planPath(M, E)) === 'small') {
    be.rt.record({
      kernel: PLAN_SMALL,
      overrides: { WG: PLAN_WG },
      uniform: packUniforms('uuu', [M, E, P]),
      buffers: [be.buf(idx), be.buf(offsets), be.buf(slotAssign), be.buf(assignSlot)],
      workgroups: [1, 1, 1],
    });
    return { offsets, slotAssign, assignSlot };
  }
  const maxDim = be.rt.limits.maxComputeWorkgroupsPerDimension;
  const counts = be.empty([E * P], 'i32'); // per (expert, chunk): count, then exclusive prefix
  const totals = be.empty([E], 'i32');
  const uniform = packUniforms('uuu', [M, E, P]);
  const overrides = { WG: PLAN_WG };
  be.rt.record({
    kernel: PLAN_COUNT,
    overrides,
    uniform,
    buffers: [be.buf(idx), be.buf(counts)],
    workgroups: grid1d(P, 1, maxDim),
  });
  be.rt.record({
    kernel: PLAN_SCAN,
    overrides,
    uniform,
    buffers: [be.buf(counts), be.buf(totals)],
    workgroups: grid1d(E, 1, maxDim),
  });
  be.rt.record({
    kernel: PLAN_OFFSETS,
    overrides,
    uniform,
    buffers: [be.buf(totals), be.buf(offsets)],
    workgroups: [1, 1, 1],
  });
  be.rt.record({
    kernel: PLAN_SCATTER,
    overrides,
    uniform,
    buffers: [be.buf(idx), be.buf(counts), be.buf(offsets), be.buf(slotAssign), be.buf(assignSlot)],
    workgroups: grid1d(P, 1, maxDim),
  });
  // Released now; the pool reuses them only after this work is submitted.
  counts.dispose();
  totals.dispose();
  return { offsets, slotAssign, assignSlot };
}

/** One layer's bias update: moeBiasUpdates with one layer (one dispatch). */
export function moeBiasUpdate(be: WebGPUBackend, bias: Tensor, offsets: Tensor, gamma: number): void {
  moeBiasUpdates(be, [bias], [offsets], gamma);
}

/** The bias_update_many module for `layers` layers (moe_bias_update.wgsl), built once per count. */
const biasManyKernels = new Map<number, Kernel>();
function biasManyKernel(layers: number): Kernel {
  let k = biasManyKernels.get(layers);
  if (!k) {
    const parts = Array.from({ length: layers }, (_, l) =>
      instantiate(section(biasManySrc, 'layer'), { suffix: `_${l}`, params: 'um_p', base: 2 * l }),
    );
    const calls = parts.map((_, l) => `  if (l == ${l}u) { update_${l}(t); }`).join('\n');
    const entry = section(biasManySrc, 'entry')
      .replace('#U', String(2 * layers))
      .replace('  // LAYERS', calls);
    k = { name: `moe_bias_update_${layers}`, code: [...parts, entry].join('\n'), entry: 'bias_update_many' };
    biasManyKernels.set(layers, k);
  }
  return k;
}

/** Layers per bias_update_many dispatch, at most (two storage buffers each). */
const BIAS_MANY_MAX = 8;

/**
 * moeBiasUpdate for each (bias, offsets) pair in order, several layers per dispatch: consecutive
 * pairs with the same E, none bias twice (a layer run twice in a step updates twice, in order).
 */
export function moeBiasUpdates(
  be: WebGPUBackend,
  biases: readonly Tensor[],
  offsets: readonly Tensor[],
  gamma: number,
): void {
  const most = Math.max(1, Math.min(BIAS_MANY_MAX, Math.floor(be.rt.limits.maxStorageBuffersPerShaderStage / 2)));
  let group: number[] = [];
  const flush = () => {
    if (group.length === 0) return;
    const E = biases[group[0]].size;
    if (E > 0)
      be.rt.record({
        kernel: biasManyKernel(group.length),
        overrides: { WG: 64 },
        buffers: group.flatMap((i) => [be.buf(biases[i]), be.buf(offsets[i])]),
        uniform: packUniforms('uf', [E, gamma]),
        workgroups: [group.length, 1, 1],
      });
    group = [];
  };
  biases.forEach((b, i) => {
    const g0 = group[0];
    if (
      group.length === most ||
      (g0 !== undefined && (biases[g0].size !== b.size || group.some((j) => biases[j] === b)))
    )
      flush();
    group.push(i);
  });
  flush();
}

export const ops = {
  sigmoid,
  sigmoidBackward,
  moeRoute,
  moeRouteBackward,
  moeRouteSigmoid,
  moeRouteSigmoidBackward,
  moePlan,
  moeBiasUpdate,
  moeBiasUpdates,
} satisfies WebGPUFamily;
