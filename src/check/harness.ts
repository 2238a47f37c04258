// Runs OpChecks: GPU vs CPU forward, GPU vs CPU backward, and the CPU backward against central
// finite differences in float64. Error metric everywhere: normwise max relative error,
//   err(a, ref) = max_i |a_i − ref_i| / max(max_i |ref_i|, 1e-6),
// which is robust to individual near-zero entries.

import type { Backend } from '../engine/backend';
import { Rng } from '../engine/rng';
import type { Tensor } from '../engine/tensor';
import type { CheckCase, HostInput, OpCheck } from './types';

export interface CheckResult {
  op: string;
  desc: string;
  forwardErr: number;
  backwardErr: number | null;
  finiteDiffErr: number | null;
  tolForward: number;
  tolBackward: number;
  tolFiniteDiff: number;
  ok: boolean;
}

/** Finite-difference agreement required of the float64 reference backward. */
export const FD_TOLERANCE = 1e-5;

export function relErr(a: ArrayLike<number>, ref: ArrayLike<number>): number {
  if (a.length !== ref.length) return Infinity;
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - ref[i]);
    if (!(d <= num)) num = Number.isNaN(d) ? Infinity : Math.max(num, d);
    den = Math.max(den, Math.abs(ref[i]));
  }
  return num / Math.max(den, 1e-6);
}

function upload(be: Backend, inputs: HostInput[]): Tensor[] {
  return inputs.map((h) => be.fromArray(h.data, h.shape, h.dtype));
}

async function readAll(ts: Array<Tensor | null>): Promise<Array<Float64Array | Int32Array | null>> {
  const out: Array<Float64Array | Int32Array | null> = [];
  for (const t of ts) out.push(t ? await t.read() : null);
  return out;
}

function dispose(ts: Array<Tensor | null>): void {
  for (const t of ts) t?.dispose();
}

/** L = Σ_k Σ(out_k ⊙ dy_k) on the CPU, for finite differences. */
async function scalarLoss(cpu: Backend, c: CheckCase, inputs: HostInput[], dys: Float64Array[]): Promise<number> {
  const xs = upload(cpu, inputs);
  const outs = c.forward(cpu, xs);
  let L = 0;
  for (let k = 0; k < c.nDiff; k++) {
    const o = await outs[k].read();
    for (let i = 0; i < o.length; i++) L += o[i] * dys[k][i];
  }
  return L;
}

export async function runCase(
  check: OpCheck,
  c: CheckCase,
  cpu: Backend,
  gpu: Backend,
  rng: Rng,
  fdSamples = 8,
): Promise<CheckResult> {
  // Forward on both.
  const xc = upload(cpu, c.inputs);
  const xg = upload(gpu, c.inputs);
  const oc = c.forward(cpu, xc);
  const og = c.forward(gpu, xg);
  const hc = await readAll(oc);
  const hg = await readAll(og);
  let forwardErr = 0;
  for (let k = 0; k < hc.length; k++) forwardErr = Math.max(forwardErr, relErr(hg[k]!, hc[k]!));

  let backwardErr: number | null = null;
  let finiteDiffErr: number | null = null;
  if (c.backward) {
    const dys = oc.slice(0, c.nDiff).map((o) => rng.normalArray(o.size));
    const gc = c.backward(
      cpu,
      xc,
      dys.map((d, k) => cpu.fromArray(d, oc[k].shape)),
    );
    const gg = c.backward(
      gpu,
      xg,
      dys.map((d, k) => gpu.fromArray(d, og[k].shape)),
    );
    const hgc = await readAll(gc);
    const hgg = await readAll(gg);
    backwardErr = 0;
    finiteDiffErr = 0;
    for (let i = 0; i < c.inputs.length; i++) {
      const inp = c.inputs[i];
      if (!inp.grad) continue;
      const an = hgc[i] as Float64Array | null;
      if (!an || !hgg[i]) throw new Error(`${check.name}: backward returned no gradient for input "${inp.name}"`);
      backwardErr = Math.max(backwardErr, relErr(hgg[i]!, an));
      // Central differences at a few random coordinates of this input.
      let num = 0;
      let den = 1e-6;
      for (const v of an) den = Math.max(den, Math.abs(v));
      const n = inp.data.length;
      const picks = n <= fdSamples ? [...Array(n).keys()] : Array.from({ length: fdSamples }, () => rng.int(0, n - 1));
      for (const j of picks) {
        const x0 = inp.data[j];
        const h = 1e-5 * Math.max(1, Math.abs(x0));
        const plus = c.inputs.map((h2) => ({ ...h2, data: h2.data.slice() }));
        const minus = c.inputs.map((h2) => ({ ...h2, data: h2.data.slice() }));
        plus[i].data[j] = x0 + h;
        minus[i].data[j] = x0 - h;
        const fd = ((await scalarLoss(cpu, c, plus, dys)) - (await scalarLoss(cpu, c, minus, dys))) / (2 * h);
        num = Math.max(num, Math.abs(fd - an[j]));
      }
      finiteDiffErr = Math.max(finiteDiffErr, num / den);
    }
    dispose(gg);
    dispose(gc);
  }
  dispose(og);
  dispose(xg);
  await gpu.flush();

  const tolForward = Math.min(check.tolForward, c.tolForward ?? Infinity);
  const ok =
    forwardErr <= tolForward &&
    (backwardErr === null || backwardErr <= check.tolBackward) &&
    (finiteDiffErr === null || finiteDiffErr <= FD_TOLERANCE);
  return {
    op: check.name,
    desc: c.desc,
    forwardErr,
    backwardErr,
    finiteDiffErr,
    tolForward,
    tolBackward: check.tolBackward,
    tolFiniteDiff: FD_TOLERANCE,
    ok,
  };
}

/** Run `cases` cases of one op from a seed (case i uses shape regime i); by default the check's own count. */
export async function runCheck(
  check: OpCheck,
  seed: number,
  cpu: Backend,
  gpu: Backend,
  cases = check.cases ?? 3,
): Promise<CheckResult[]> {
  const rng = new Rng(seed * 7919 + hashName(check.name));
  const results: CheckResult[] = [];
  for (let i = 0; i < cases; i++) {
    const c = check.makeCase(rng, i);
    results.push(await runCase(check, c, cpu, gpu, rng));
  }
  return results;
}

function hashName(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(h, 31) + s.charCodeAt(i)) >>> 0;
  return h % 100000;
}

const e2 = (x: number | null) => (x === null ? '-' : x.toExponential(2));

/** One result on one line: `op desc: fwd … bwd … fd …`. */
export function formatResult(r: CheckResult): string {
  return `${r.op} ${r.desc}: fwd ${e2(r.forwardErr)} bwd ${e2(r.backwardErr)} fd ${e2(r.finiteDiffErr)}`;
}

/** The largest errors over a check's results and its tolerances, on one line. */
export function worstErrors(check: OpCheck, results: CheckResult[]): string {
  const worst = (f: (r: CheckResult) => number | null) => Math.max(0, ...results.map((r) => f(r) ?? 0));
  const bwd = results.some((r) => r.backwardErr !== null)
    ? ` bwd ${e2(worst((r) => r.backwardErr))} fd ${e2(worst((r) => r.finiteDiffErr))}`
    : ' (no backward)';
  return `[errors] ${check.name}: max fwd ${e2(worst((r) => r.forwardErr))}${bwd} (tol ${check.tolForward}/${check.tolBackward}) over ${results.length} cases`;
}
