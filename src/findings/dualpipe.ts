// DualPipe (V3 §3.2.1, Table 2): the simulated pipeline bubble of each schedule against the
// report's formula, and DualPipe's memory price (2× parameters, PP+1 activations). Each seed
// draws stage times that meet the formula's assumptions (F = B−W, W ≤ F, max(F,B) ≤ F&B ≤ F+B,
// no communication), so the check is not tied to one hand-picked set of times.

import { Rng } from '../engine/rng';
import { runSchedule, SCHEDULE_LABEL, SCHEDULES, type Times } from '../sim';
import { decide, Meter, num, seedsText, stat } from './stats';
import type { Chart, Finding, FindingResult, RunFindingOptions } from './types';

const PPS = { quick: [4, 8], full: [4, 8, 16] };

/** Stage times from a seed, inside the assumptions under which the table's formulas are exact. */
export function drawTimes(seed: number): Times {
  const r = new Rng(seed * 7919 + 13);
  const F = 0.5 + 1.5 * r.next();
  const W = F * (0.2 + 0.8 * r.next());
  const B = F + W; // the input-gradient half B − W equals F
  const FB = Math.max(F, B) + Math.min(F, B) * r.next();
  return { F, B, W, FB, comm: 0, overlapComm: true };
}

const armOf = (schedule: string, pp: number) => `${SCHEDULE_LABEL[schedule as keyof typeof SCHEDULE_LABEL]} PP=${pp}`;

async function run(_be: unknown, opts: RunFindingOptions): Promise<FindingResult> {
  const t0 = performance.now();
  const pps = opts.quick ? PPS.quick : PPS.full;
  const meter = new Meter(pps.length * opts.seeds.length, opts.onProgress);
  const lab: FindingResult['lab'] = {};
  const notes: string[] = [];
  const chart: Chart = { title: 'Simulated bubble ÷ formula (1 = equal)', xLabel: 'PP', curves: [] };
  const rows: Record<string, Record<string, number[]>> = {};
  for (const pp of pps) {
    for (const seed of opts.seeds) {
      const t = drawTimes(seed);
      for (const s of SCHEDULES) {
        const res = runSchedule(s, pp, 2 * pp, t);
        const arm = armOf(s, pp);
        rows[arm] ??= { sim_bubble: [], formula_bubble: [], ratio: [], activations: [], parameter_copies: [] };
        if (!res.stats || res.violations.length || res.unmet.length) {
          notes.push(`${arm} seed ${seed}: ${res.problem ?? [...res.violations, ...res.unmet].join('; ')}`);
          continue;
        }
        const a = rows[arm];
        a.sim_bubble.push(res.stats.bubble);
        a.formula_bubble.push(res.formula.bubble);
        a.ratio.push(res.formula.bubble > 0 ? res.stats.bubble / res.formula.bubble : res.stats.bubble === 0 ? 1 : NaN);
        a.activations.push(res.stats.peakActivations);
        a.parameter_copies.push(res.stats.parameterCopies);
        a.formula_activations = [...(a.formula_activations ?? []), res.formula.activations];
        a.formula_parameter_copies = [...(a.formula_parameter_copies ?? []), res.formula.parameterCopies];
      }
      meter.add(1, `PP=${pp} seed ${seed}`);
    }
  }
  for (const [arm, m] of Object.entries(rows)) {
    lab[arm] = Object.fromEntries(Object.entries(m).map(([k, xs]) => [k, stat(xs)]));
  }
  for (const s of SCHEDULES) {
    chart.curves.push({
      label: SCHEDULE_LABEL[s],
      x: pps,
      per_seed: opts.seeds.map((_, i) => pps.map((pp) => rows[armOf(s, pp)]?.ratio[i] ?? NaN)),
    });
  }
  return {
    finding: 'dualpipe',
    seeds: opts.seeds,
    quick: opts.quick,
    lab,
    charts: [chart],
    notes,
    seconds: (performance.now() - t0) / 1000,
    adapter: 'simulator (no GPU)',
  };
}

const close = (a: number, b: number) => Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));

/**
 * Reproduced: at every PP and seed, each schedule's simulated bubble equals its formula, DualPipe
 * holds 2 parameter copies and PP+1 activations, and its bubble is below 1F1B's. Not reproduced:
 * any of these fails. Inconclusive: nothing was simulated.
 */
export function dualpipeRule(r: FindingResult): ReturnType<Finding['rule']> {
  const arms = Object.entries(r.lab);
  const n = arms.reduce((k, [, m]) => k + (m.sim_bubble?.per_seed.length ?? 0), 0);
  if (!n) return 'inconclusive';
  let ok = true;
  for (const [arm, m] of arms) {
    const sim = m.sim_bubble?.per_seed ?? [];
    const f = m.formula_bubble?.per_seed ?? [];
    if (sim.length !== f.length || sim.some((x, i) => !close(x, f[i]))) ok = false;
    const act = m.activations?.per_seed ?? [];
    const fAct = m.formula_activations?.per_seed ?? [];
    if (act.some((x, i) => x !== fAct[i])) ok = false;
    const pc = m.parameter_copies?.per_seed ?? [];
    const fPc = m.formula_parameter_copies?.per_seed ?? [];
    if (pc.some((x, i) => x !== fPc[i])) ok = false;
    if (arm.startsWith('DualPipe')) {
      const pp = Number(arm.split('=')[1]);
      if (pc.some((x) => x !== 2) || act.some((x) => x !== pp + 1)) ok = false;
      const ofb = r.lab[arm.replace('DualPipe', '1F1B')]?.sim_bubble?.per_seed ?? [];
      if (sim.some((x, i) => !(ofb[i] !== undefined && x < ofb[i]))) ok = false;
    }
  }
  return decide(ok, !ok);
}

export const dualpipe: Finding = {
  name: 'dualpipe',
  title: 'DualPipe: bubbles and memory as in the table',
  claim:
    "DualPipe's pipeline bubble is (PP/2−1)(F&B+B−3W), below 1F1B's (PP−1)(F+B) and ZB1P's (PP−1)(F+B−2W), at the price of 2× parameters and PP+1 activations per rank.",
  paper: 'V3 §3.2.1, Table 2',
  paperFigure: 'bubble (PP/2−1)(F&B+B−3W); 2× params; PP+1 activations',
  ruleText:
    'Reproduced if, at every PP and seed, every schedule’s simulated bubble equals its formula, DualPipe holds 2 parameter copies and PP+1 activations, and its bubble is below 1F1B’s; not reproduced if any of these fails.',
  sizes: {
    full: { seeds: 5, about: 'PP 4, 8, 16; 2·PP micro-batches; random stage times per seed' },
    quick: { seeds: 3, about: 'PP 4, 8; 2·PP micro-batches; random stage times per seed' },
  },
  gpu: false,
  experiment: () => [],
  run: (be, opts) => run(be, opts),
  rule: dualpipeRule,
  labFigure(r) {
    const arms = Object.keys(r.lab).filter((a) => a.startsWith('DualPipe'));
    const worst = Math.max(
      ...Object.values(r.lab).flatMap((m) => m.ratio?.per_seed.map((x) => Math.abs(x - 1)) ?? [NaN]),
    );
    const act = arms.map((a) => `${num(r.lab[a].activations?.mean, 0)} at PP=${a.split('=')[1]}`).join(', ');
    return `sim ÷ formula − 1 ≤ ${worst.toExponential(1)} (all schedules); DualPipe activations ${act}; params ${num(r.lab[arms[0]]?.parameter_copies?.mean, 0)}× (${seedsText(r)})`;
  },
  caveat:
    'A simulator of the schedules, not a measurement on GPUs: communication is set to zero, as the formulas assume.',
};
