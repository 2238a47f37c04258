// Segmented RMSNorm on the GPU (shaders/rmsnorm_segments.wgsl): one or two RMSNorms over the
// leading columns of their rows, the other columns carried, forward in one dispatch and the
// whole backward (dx rows, the carried columns' gradient, dw) in one. Where a device's storage
// buffer limit or the dw partials' workgroup memory does not allow it, the same values come from
// the plain kernels (a split, rmsnorm, rmsnormBackward, a concat per segment).

import lanesSubgroup from '../../../shaders/lanes_subgroup.wgsl?raw';
import lanesTree from '../../../shaders/lanes_tree.wgsl?raw';
import normSrc from '../../../shaders/rmsnorm.wgsl?raw';
import segSrc from '../../../shaders/rmsnorm_segments.wgsl?raw';
import type { NormSegment, NormSegmentsResult } from '../../engine/backend';
import type { Tensor } from '../../engine/tensor';
import type { WebGPUBackend } from './backend';
import { subgroupLanes } from './device';
import type { Kernel } from './pipelines';
import { grid1d, packUniforms, rowThreads } from './runtime';
import { instantiate, section } from './template';

/** As rmsnorm.ts: chunk lanes per dw workgroup, workgroup floats for the partials, rows per chunk. */
const LANES = 16;
const PART_CAP = 3072;
const CHUNK_ROWS = 64;
const SUFFIXES = ['_a', '_b'];

type Pass = 'forward' | 'backward';

const modules = new Map<string, Kernel>();

/** The module for a pass over segments with (true) or without carried columns, on a path. */
function kernel(pass: Pass, carries: boolean[], subgroup: boolean): Kernel {
  const key = `${pass}:${carries.map(Number).join('')}:${subgroup}`;
  const hit = modules.get(key);
  if (hit) return hit;
  let base = 1; // binding 0: rstd
  const parts = carries.map((carry, s) => {
    const text = instantiate(section(segSrc, pass), {
      suffix: SUFFIXES[s],
      params: `SP${SUFFIXES[s].replace('_', '.')}`,
      base,
      drop: carry ? [] : ['rest'],
    });
    base += (text.match(/@binding\(/g) ?? []).length;
    return text;
  });
  const entries = section(segSrc, `${pass} entries`).replace('#U', String(base));
  const body = [
    normSrc,
    section(segSrc, 'common'),
    ...parts,
    carries.length === 2
      ? entries
      : entries
          .split('\n')
          .filter((l) => !l.trimEnd().endsWith('// two'))
          .join('\n'),
  ];
  const code = subgroup
    ? [lanesSubgroup, ...body, section(segSrc, `${pass} subgroup entries`)].join('\n')
    : [...body, lanesTree].join('\n');
  const name = `rmsnorm_segments_${pass === 'forward' ? 'fwd' : 'bwd'}_${carries.map((c) => (c ? 'c' : 'n')).join('')}${subgroup ? '_subgroup' : ''}`;
  const k: Kernel = {
    name,
    code,
    entry: `segments_${pass === 'forward' ? 'fwd' : 'bwd'}${subgroup ? '_subgroup' : ''}`,
  };
  modules.set(key, k);
  return k;
}

interface Plan {
  N: number;
  D: number[];
  S: number[];
  wg: number;
  chunks: number;
  chunkRows: number;
  dwGroups: number[];
}

/** The one-dispatch layout, or null where this device (or the problem's size) needs the plain kernels. */
function plan(be: WebGPUBackend, segs: readonly NormSegment[]): Plan | null {
  const N = segs[0].x.shape[0];
  const D = segs.map((s) => s.w.size);
  const S = segs.map((s) => s.x.shape[1]);
  const wg = Math.max(...D.map(rowThreads));
  const maxDim = be.rt.limits.maxComputeWorkgroupsPerDimension;
  const chunkRows = Math.max(CHUNK_ROWS, Math.ceil(N / maxDim));
  const chunks = Math.ceil(N / chunkRows);
  const cw = wg / Math.min(LANES, wg);
  const carried = S.filter((s, i) => s > D[i]).length;
  // Backward bindings: rstd, then x, w, dy, dx, dw (and the carried columns' gradient) per segment.
  const buffers = 1 + 5 * segs.length + carried;
  if (chunks * cw > PART_CAP || buffers > be.rt.limits.maxStorageBuffersPerShaderStage) return null;
  return { N, D, S, wg, chunks, chunkRows, dwGroups: D.map((d) => Math.ceil(d / cw)) };
}

type Seg = [number, number, number, number, number, number, number, number];

/** The uniform block (SegParams): rows, eps, chunks, chunk_rows, then each segment's Seg. */
function uniform(p: Plan, eps: number, dw: boolean): ArrayBuffer {
  const seg = (s: number): Seg =>
    s < p.D.length
      ? [p.D[s], p.S[s], rowThreads(p.D[s]), dw ? p.dwGroups[s] : 0, s * p.N, 0, 0, 0]
      : [0, 0, 0, 0, 0, 0, 0, 0];
  return packUniforms('ufuuuuuuuuuuuuuuuuuu', [p.N, eps, p.chunks, p.chunkRows, ...seg(0), ...seg(1)]);
}

function recordOn(
  be: WebGPUBackend,
  pass: Pass,
  p: Plan,
  buffers: Tensor[],
  uniformBlock: ArrayBuffer,
  groups: number,
) {
  const lanes = subgroupLanes(be);
  const subgroup = lanes !== null;
  const overrides: Record<string, number> = { WG: p.wg, LANES: Math.min(LANES, p.wg) };
  if (subgroup) overrides.SG_CAP = lanes;
  be.rt.record({
    kernel: kernel(
      pass,
      p.S.map((s, i) => s > p.D[i]),
      subgroup,
    ),
    overrides,
    buffers: buffers.map((t) => be.buf(t)),
    uniform: uniformBlock,
    workgroups: grid1d(groups, 1, be.rt.limits.maxComputeWorkgroupsPerDimension),
  });
}

export function rmsnormSegments(be: WebGPUBackend, segs: readonly NormSegment[], eps: number): NormSegmentsResult {
  const N = segs[0].x.shape[0];
  const carried = (s: NormSegment) => s.x.shape[1] - s.w.size;
  const p = N > 0 ? plan(be, segs) : null;
  if (!p) {
    // The plain kernels, segment by segment (rstd one tensor per segment).
    const out: NormSegmentsResult = { y: [], rest: [], rstd: [] };
    for (const s of segs) {
      const lead = carried(s) > 0 ? be.sliceLast(s.x, 0, s.w.size) : s.x;
      const r = be.rmsnorm(lead, s.w, eps);
      if (lead !== s.x) lead.dispose();
      out.y.push(r.y);
      out.rest.push(carried(s) > 0 ? be.sliceLast(s.x, s.w.size, carried(s)) : null);
      out.rstd.push(r.rstd);
    }
    return out;
  }
  const y = segs.map((s) => be.empty([N, s.w.size]));
  const rest = segs.map((s) => (carried(s) > 0 ? be.empty([N, carried(s)]) : null));
  const rstd = be.empty([segs.length * N]);
  const buffers = [rstd];
  segs.forEach((s, i) => {
    buffers.push(s.x, s.w, y[i]);
    if (rest[i]) buffers.push(rest[i] as Tensor);
  });
  recordOn(be, 'forward', p, buffers, uniform(p, eps, false), segs.length * N);
  return { y, rest, rstd: [rstd] };
}

export function rmsnormSegmentsBackward(
  be: WebGPUBackend,
  segs: readonly NormSegment[],
  rstd: readonly Tensor[],
  dy: readonly Tensor[],
  dRest: ReadonlyArray<Tensor | null>,
): { dx: Tensor[]; dw: Tensor[] } {
  const N = segs[0].x.shape[0];
  const carries = segs.map((s) => s.x.shape[1] > s.w.size);
  // The forward's layout: one rstd buffer for the one-dispatch kernels, one per segment otherwise.
  const p = N > 0 && rstd.length === 1 ? plan(be, segs) : null;
  if (!p) {
    return segs.reduce(
      (out, s, i) => {
        const D = s.w.size;
        const lead = carries[i] ? be.sliceLast(s.x, 0, D) : s.x;
        const g = be.rmsnormBackward(lead, s.w, rstd[i], dy[i]);
        if (lead !== s.x) lead.dispose();
        let dx = g.dx;
        if (carries[i]) {
          const dr = dRest[i] ?? be.zeros([N, s.x.shape[1] - D]);
          dx = be.concatLast(g.dx, dr);
          g.dx.dispose();
          if (!dRest[i]) dr.dispose();
        }
        out.dx.push(dx);
        out.dw.push(g.dw);
        return out;
      },
      { dx: [] as Tensor[], dw: [] as Tensor[] },
    );
  }
  const dx = segs.map((s) => be.empty(s.x.shape));
  const dw = segs.map((s) => be.empty([s.w.size]));
  const zeros: Tensor[] = [];
  const buffers = [rstd[0]];
  segs.forEach((s, i) => {
    buffers.push(s.x, s.w, dy[i], dx[i], dw[i]);
    if (carries[i]) {
      let dr = dRest[i];
      if (!dr) {
        dr = be.zeros([N, s.x.shape[1] - s.w.size]);
        zeros.push(dr);
      }
      buffers.push(dr);
    }
  });
  const groups = segs.length * N + p.dwGroups.reduce((a, b) => a + b, 0);
  recordOn(be, 'backward', p, buffers, uniform(p, 0, true), groups);
  for (const z of zeros) z.dispose();
  return { dx, dw };
}
