// RMSNorm on the GPU (shaders/rmsnorm.wgsl). Forward and the dx half of the backward run ROWS
// rows per workgroup and R threads per row, each thread holding TPR / R lanes of the row's
// fixed-width tree (rowShape); dw is a deterministic column reduction (per-chunk partial sums, then the
// chunks summed in order), done by extra workgroups of the backward's one dispatch (two passes
// of their own only for N past ~12k rows). The backward can add the gradient already gathered
// for x (res) into dx. See the shader for the algorithm. Where the device has `subgroups` (and the
// backend's paths allow it, device.ts KernelPaths) the row sums finish with subgroup shuffles: the
// same additions in the same order, the same bits (shaders/lanes_subgroup.wgsl).

import lanesSubgroup from '../../../shaders/lanes_subgroup.wgsl?raw';
import lanesTree from '../../../shaders/lanes_tree.wgsl?raw';
import src from '../../../shaders/rmsnorm.wgsl?raw';
import subgroupEntries from '../../../shaders/rmsnorm_subgroup.wgsl?raw';
import type { Tensor } from '../../engine/tensor';
import type { WebGPUBackend, WebGPUFamily } from './backend';
import { subgroupLanes } from './device';
import type { Kernel, Overrides } from './pipelines';
import { rmsnormSegments, rmsnormSegmentsBackward } from './rmsnorm_segments';
import { grid1d, packUniforms, rowShape } from './runtime';

/** Upstream-gradient parts rmsnorm_bwd reads and adds itself, at most (more are pre-added). */
const MAX_DY_PARTS = 4;

/** rmsnorm.wgsl with rmsnorm_bwd reading dy as `parts` buffers summed in order (see the shader). */
function dyPartsVariant(code: string, parts: number): string {
  const begin = code.indexOf('// DY_PARTS_BEGIN');
  const end = code.indexOf('// DY_PARTS_END');
  if (begin < 0 || end < begin) throw new Error('rmsnorm.wgsl: no DY_PARTS block');
  const lines: string[] = [];
  for (let k = 0; k < parts; k++) lines.push(`@group(0) @binding(${6 + k}) var<storage, read> g_dy${k}: array<f32>;`);
  lines.push(`@group(0) @binding(${6 + parts}) var<uniform> g_p: BwdParams;`);
  let sum = 'g_dy0[i]';
  for (let k = 1; k < parts; k++) sum = `(${sum} + g_dy${k}[i])`;
  lines.push('fn dy_at(i: u32) -> f32 {', `  return ${sum};`, '}', '');
  return code.slice(0, begin) + lines.join('\n') + code.slice(end);
}

type RowEntry = 'rmsnorm_fwd' | 'add_rmsnorm_fwd' | 'rmsnorm_bwd';

/**
 * The row kernels: module [path][dy parts − 1], the tree (lanes_tree.wgsl appended) or the
 * subgroup finish (lanes_subgroup.wgsl prepended, the *_subgroup entries appended).
 */
const MODULES = [false, true].map((subgroup) =>
  [1, 2, 3, 4].map((parts) => {
    const body = parts === 1 ? src : dyPartsVariant(src, parts);
    const name = `rmsnorm${subgroup ? '_subgroup' : ''}${parts === 1 ? '' : `_dy${parts}`}`;
    const code = subgroup ? `${lanesSubgroup}\n${body}\n${subgroupEntries}` : `${body}\n${lanesTree}`;
    return { name, code };
  }),
);

/** The kernel this backend takes for a row entry: the subgroup finish where the device has it and the paths allow. */
function rowKernel(
  be: WebGPUBackend,
  entry: RowEntry,
  N: number,
  D: number,
  parts = 1,
): { kernel: Kernel; overrides: Overrides; rows: number } {
  const lanes = subgroupLanes(be);
  const subgroup = lanes !== null;
  const m = MODULES[subgroup ? 1 : 0][parts - 1];
  const { tpr, r, rows } = rowShape(N, D);
  const overrides: Overrides = { TPR: tpr, R: r, ROWS: rows };
  if (subgroup) overrides.SG_CAP = lanes;
  return { kernel: { ...m, entry: subgroup ? `${entry}_subgroup` : entry }, overrides, rows };
}

const DW_PART: Kernel = { ...MODULES[0][0], entry: 'rmsnorm_dw_part' };
const DW_SUM: Kernel = { ...MODULES[0][0], entry: 'rmsnorm_dw_sum' };

/** Columns per workgroup in the dw passes. */
const COLS = 64;
/** Rows per dw partial sum (raised for huge N so the chunk count fits one grid dimension). */
const CHUNK_ROWS = 64;
/** rmsnorm_bwd: chunk lanes per dw workgroup, and the workgroup floats that hold the chunk partials. */
const LANES = 16;
const PART_CAP = 3072;

function rowsCols(x: Tensor): [number, number] {
  const D = x.shape[x.shape.length - 1];
  return [D === 0 ? 0 : x.size / D, D];
}

/** Uniform block: rows, cols, eps, chunks, chunk_rows (see Params in the shader). */
function params(N: number, D: number, eps: number, chunks: number, chunkRows: number): ArrayBuffer {
  return packUniforms('uufuu', [N, D, eps, chunks, chunkRows]);
}

export function rmsnorm(be: WebGPUBackend, x: Tensor, w: Tensor, eps: number): { y: Tensor; rstd: Tensor } {
  const [N, D] = rowsCols(x);
  const y = be.empty(x.shape);
  const rstd = be.empty([N]);
  if (N === 0) return { y, rstd };
  const { kernel, overrides, rows } = rowKernel(be, 'rmsnorm_fwd', N, D);
  be.rt.record({
    kernel,
    overrides,
    buffers: [be.buf(x), be.buf(w), be.buf(y), be.buf(rstd)],
    uniform: params(N, D, eps, 0, 0),
    workgroups: grid1d(N, rows, be.rt.limits.maxComputeWorkgroupsPerDimension),
  });
  return { y, rstd };
}

export function addRmsnorm(
  be: WebGPUBackend,
  a: Tensor,
  b: Tensor,
  w: Tensor,
  eps: number,
): { sum: Tensor; y: Tensor; rstd: Tensor } {
  const [N, D] = rowsCols(a);
  const sum = be.empty(a.shape);
  const y = be.empty(a.shape);
  const rstd = be.empty([N]);
  if (N === 0) return { sum, y, rstd };
  const { kernel, overrides, rows } = rowKernel(be, 'add_rmsnorm_fwd', N, D);
  be.rt.record({
    kernel,
    overrides,
    buffers: [be.buf(a), be.buf(b), be.buf(w), be.buf(sum), be.buf(y), be.buf(rstd)],
    uniform: params(N, D, eps, 0, 0),
    workgroups: grid1d(N, rows, be.rt.limits.maxComputeWorkgroupsPerDimension),
  });
  return { sum, y, rstd };
}

export function rmsnormBackward(
  be: WebGPUBackend,
  x: Tensor,
  w: Tensor,
  rstd: Tensor,
  dy: Tensor,
  res?: Tensor,
  dyMore: readonly Tensor[] = [],
): { dx: Tensor; dw: Tensor } {
  const [N, D] = rowsCols(x);
  const dx = be.empty(x.shape);
  if (N === 0) return { dx, dw: be.zeros([D]) };
  // dy's parts, summed in order by the kernel; past what the kernel (or the device's storage
  // buffer limit) takes, the first ones are added beforehand — the same sums in the same order.
  let parts = [dy, ...dyMore];
  const maxParts = Math.min(MAX_DY_PARTS, be.rt.limits.maxStorageBuffersPerShaderStage - 6);
  const extra: Tensor[] = [];
  while (parts.length > Math.max(1, maxParts)) {
    const s = be.add(parts[0], parts[1]);
    extra.push(s);
    parts = [s, ...parts.slice(2)];
  }
  const maxDim = be.rt.limits.maxComputeWorkgroupsPerDimension;
  const dw = be.empty([D]);
  // dw: partial column sums over fixed chunks of rows, then the chunks summed in order — inside
  // the dx dispatch while the partials fit its workgroup memory, else in two passes of their own.
  const chunkRows = Math.max(CHUNK_ROWS, Math.ceil(N / maxDim));
  const chunks = Math.ceil(N / chunkRows);
  const bwd = rowKernel(be, 'rmsnorm_bwd', N, D, parts.length);
  const wg = Number(bwd.overrides.R) * bwd.rows;
  const lanes = Math.min(LANES, wg);
  const colsPerGroup = wg / lanes;
  const fused = chunks * colsPerGroup <= PART_CAP;
  const dwGroups = fused ? Math.ceil(D / colsPerGroup) : 0;
  be.rt.record({
    kernel: bwd.kernel,
    overrides: { ...bwd.overrides, LANES: lanes },
    buffers: [
      be.buf(x),
      be.buf(w),
      be.buf(rstd),
      be.buf(res ?? parts[0]),
      be.buf(dx),
      be.buf(dw),
      ...parts.map((t) => be.buf(t)),
    ],
    uniform: packUniforms('uuuuuu', [N, D, chunks, chunkRows, res ? 1 : 0, dwGroups]),
    workgroups: grid1d(Math.ceil(N / bwd.rows) + dwGroups, 1, maxDim),
  });
  if (fused) {
    for (const t of extra) t.dispose();
    return { dx, dw };
  }

  // The two dw passes read dy whole: its parts added (in order) first.
  let dySum = parts[0];
  for (let k = 1; k < parts.length; k++) {
    dySum = be.add(dySum, parts[k]);
    extra.push(dySum);
  }
  const part = chunks === 1 ? dw : be.empty([chunks, D]);
  be.rt.record({
    kernel: DW_PART,
    overrides: { COLS },
    buffers: [be.buf(x), be.buf(rstd), be.buf(dySum), be.buf(part)],
    uniform: params(N, D, 0, chunks, chunkRows),
    workgroups: [Math.ceil(D / COLS), chunks, 1],
  });
  if (part !== dw) {
    be.rt.record({
      kernel: DW_SUM,
      overrides: { COLS },
      buffers: [be.buf(part), be.buf(dw)],
      uniform: params(N, D, 0, chunks, chunkRows),
      workgroups: [Math.ceil(D / COLS), 1, 1],
    });
    // Released now; the pool hands it out again only after this work has been submitted.
    part.dispose();
  }
  for (const t of extra) t.dispose();
  return { dx, dw };
}

export const ops = {
  rmsnorm,
  rmsnormBackward,
  addRmsnorm,
  rmsnormSegments,
  rmsnormSegmentsBackward,
} satisfies WebGPUFamily;
