// Distilling beats RL for a small model (R1 §4.1): run/distill.ts — a grpo-micro teacher's
// verified completions distilled into the distill-vs-rl student by SFT, against GRPO on the
// student itself, at an equal budget of student tokens; the held-out accuracy of both arms.

import type { Backend } from '../engine/backend';
import { type DistillPoint, distillVsRl } from '../run/distill';
import { diffSe } from './rl';
import { decide, fixed, interval, Meter, pm, seedsText, stat, values } from './stats';
import { armConfig, stepsOf } from './train';
import type { Curve, ExperimentArm, Finding, FindingResult, RunFindingOptions, Verdict } from './types';

const QUICK_TEACHER = { 'rl.grpo_steps': 12, 'rl.eval_prompts': 64, 'rl.pass_k': 1 };
const QUICK_STUDENT = {
  'train.steps': 100,
  'train.eval_every': 8,
  'rl.grpo_steps': 8,
  'rl.eval_prompts': 64,
  'rl.pass_k': 1,
};

function experiment(quick: boolean): ExperimentArm[] {
  return [
    { arm: 'teacher', preset: 'grpo-micro', set: quick ? QUICK_TEACHER : {} },
    { arm: 'student', preset: 'distill-vs-rl', set: quick ? QUICK_STUDENT : {} },
  ];
}

const PHASES: Array<[RegExp, (t: number, s: number) => number]> = [
  [/^teacher step (\d+)\//, () => 0],
  [/^student pretrain step (\d+)\//, (t) => t],
  [/^rl arm step (\d+)\//, (t, s) => t + s],
];

async function run(be: Backend, opts: RunFindingOptions): Promise<FindingResult> {
  const t0 = performance.now();
  const [teacher, student] = experiment(opts.quick).map(armConfig);
  const tSteps = stepsOf(teacher);
  const perSeed = tSteps + student.train.steps + 2 * student.rl.grpo_steps;
  const meter = new Meter(perSeed * opts.seeds.length, opts.onProgress);
  const finals: Array<Record<'base' | 'rl' | 'distill' | 'teacher', DistillPoint>> = [];
  const budgets: number[] = [];
  const admitted: number[] = [];
  const pointsBySeed: DistillPoint[][] = [];
  const notes: string[] = [];
  const done: number[] = [];
  for (const [k, seed] of opts.seeds.entries()) {
    const offset = k * perSeed;
    try {
      const r = await distillVsRl(be, {
        teacher,
        student,
        seed,
        onProgress: (what) => {
          for (const [re, start] of PHASES) {
            const m = re.exec(what);
            if (m) meter.done = Math.min(meter.total, offset + start(tSteps, student.train.steps) + Number(m[1]));
          }
          meter.say(`seed ${seed}: ${what}`);
        },
      });
      finals.push(r.final);
      budgets.push(r.budgetTokens);
      admitted.push(r.sft.admitted / Math.max(1, r.sft.generated));
      pointsBySeed.push(r.points);
      done.push(seed);
    } catch (e) {
      notes.push(`seed ${seed} failed: ${(e as Error).message}`);
    }
    meter.done = Math.min(meter.total, offset + perSeed);
    meter.say(`seed ${seed} done`);
  }
  const arm = (a: 'base' | 'rl' | 'distill' | 'teacher') => ({
    accuracy: stat(finals.map((f) => f[a].heldout_greedy)),
    format: stat(finals.map((f) => f[a].format_rate)),
    length: stat(finals.map((f) => f[a].response_len)),
    eval_prompts: fixed(a === 'teacher' ? teacher.rl.eval_prompts : student.rl.eval_prompts),
  });
  const lab: FindingResult['lab'] = {
    distill: { ...arm('distill'), budget_tokens: stat(budgets), sft_admitted: stat(admitted) },
    rl: arm('rl'),
    base: arm('base'),
    teacher: arm('teacher'),
  };
  const curveOf = (a: 'rl' | 'distill'): Curve => {
    const rows = pointsBySeed.map((ps) => [
      ps.find((p) => p.arm === 'base')?.heldout_greedy ?? NaN,
      ...ps.filter((p) => p.arm === a).map((p) => p.heldout_greedy),
    ]);
    const n = Math.min(...rows.map((r) => r.length));
    return {
      label: a === 'rl' ? 'direct GRPO' : 'distilled',
      x: Array.from({ length: n }, (_, i) => i),
      per_seed: rows,
    };
  };
  return {
    finding: 'distill',
    seeds: done,
    quick: opts.quick,
    lab,
    charts: [
      {
        title: 'Student held-out accuracy at the evaluation points (0 = base; the last at the shared budget)',
        xLabel: 'evaluation',
        curves: [curveOf('distill'), curveOf('rl')],
      },
    ],
    notes,
    seconds: (performance.now() - t0) / 1000,
    adapter: be.deviceLabel,
  };
}

/**
 * The difference distilled − direct GRPO of the student's held-out accuracy at the shared budget,
 * per seed; its standard error is the spread across seeds, or with one seed the binomial error of
 * the two accuracies. Reproduced: mean − 2 SE above 0. Not reproduced: mean + 2 SE below 0.
 * Otherwise inconclusive.
 */
export function distillRule(r: FindingResult): Verdict {
  const a = values(r, 'distill', 'accuracy');
  const b = values(r, 'rl', 'accuracy');
  const n = r.lab.distill?.eval_prompts?.mean ?? 0;
  const d = interval(
    a.map((x, i) => x - b[i]),
    a.length === 1 ? diffSe(a[0], b[0], n) : undefined,
  );
  return decide(d.lo > 0, d.hi < 0);
}

export const distill: Finding = {
  name: 'distill',
  title: 'Distillation beats RL for a small model',
  claim:
    'For a small model, fine-tuning on a stronger RL-trained teacher’s verified outputs beats running RL on the small model itself, at an equal budget.',
  paper: 'R1 §4.1, Table 6',
  paperFigure: 'Qwen-32B: distilled 72.6% vs RL-trained 47.0% AIME 2024 pass@1',
  ruleText:
    'Reproduced if the distilled student’s held-out accuracy at the shared student-token budget beats the directly RL-trained student’s (per seed, mean − 2 SE above 0); not reproduced if it is lower at mean + 2 SE. With one seed the binomial error over the held-out prompts is the SE.',
  sizes: {
    full: {
      seeds: 3,
      about: 'npm run lab -- distill defaults: grpo-micro teacher, distill-vs-rl student (20 GRPO steps)',
    },
    quick: {
      seeds: 1,
      about: 'teacher with 12 GRPO steps; student pretrained 100 steps, 8 GRPO steps; 64 held-out prompts, pass@1',
    },
  },
  experiment,
  run,
  rule: distillRule,
  labFigure(r) {
    return `student ${pm(r.lab.distill?.accuracy, 3)} (distilled) vs ${pm(r.lab.rl?.accuracy, 3)} (GRPO) at ${Math.round(r.lab.distill?.budget_tokens?.mean ?? 0).toLocaleString('en-US')} tokens; teacher ${pm(r.lab.teacher?.accuracy, 3)} (${seedsText(r)})`;
  },
  caveat:
    'The paper distills 800k samples from DeepSeek-R1 into Qwen and Llama models and compares with 10k+ steps of RL; here a 2-layer teacher and a 1-layer student on 1-digit addition, with tens of steps each.',
};
