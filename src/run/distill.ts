// Distillation vs direct RL for a small model (R1's last finding, at toy scale).
//
//   1. Teacher: a larger model through the whole RL pipeline (pretrain → GRPO).
//   2. Rejection sampling: the teacher samples `group_size` completions for each of
//      `sft_examples` fresh prompts; only completions the task's verifier scores correct AND
//      well-formatted enter the SFT set (as R1 does).
//   3. Student base: the small model pretrained on the same task text (same vocabulary).
//   4. Two arms from that same base checkpoint:
//        rl:      GRPO for the student preset's rl.grpo_steps steps;
//        distill: SFT on the teacher's set until it has processed as many tokens as the rl arm.
//      Budget = student tokens processed (RlContext.tokens: rollout prefill + decode, training and
//      reference forwards; evaluation excluded). Both arms are evaluated on the same held-out
//      prompts every train.eval_every steps and at the end.

import type { Checkpoint, RunConfig } from '../config';
import type { Backend } from '../engine/backend';
import { Rng } from '../engine/rng';
import type { SftExample } from '../rl/corpus';
import type { SftRecord } from '../rl/sft-record';
import { promptOf } from '../rl/template';
import { disposeHandles } from '../train/stage';
import { RunPipeline } from './pipeline';

export { sftJsonl, type SftRecord } from '../rl/sft-record';

export interface DistillPoint {
  arm: 'teacher' | 'base' | 'rl' | 'distill';
  /** Steps of this arm after the base checkpoint (teacher: its own steps). */
  step: number;
  /** Student tokens processed by this arm so far (0 for the base; the teacher's own for the teacher). */
  tokens: number;
  heldout_greedy: number;
  heldout_pass_k: number;
  format_rate: number;
  response_len: number;
}

export interface DistillResult {
  points: DistillPoint[];
  sft: { generated: number; admitted: number; records: SftRecord[] };
  budgetTokens: number;
  final: { base: DistillPoint; rl: DistillPoint; distill: DistillPoint; teacher: DistillPoint };
}

export interface DistillOptions {
  teacher: RunConfig;
  student: RunConfig;
  seed: number;
  onPoint?: (p: DistillPoint) => void | Promise<void>;
  onProgress?: (what: string) => void;
}

async function evalPoint(
  t: RunPipeline,
  arm: DistillPoint['arm'],
  step: number,
  tokens: number,
): Promise<DistillPoint> {
  const e = await t.rl!.evaluate();
  return {
    arm,
    step,
    tokens,
    heldout_greedy: e.greedy,
    heldout_pass_k: e.passK,
    format_rate: e.format,
    response_len: e.length,
  };
}

/** What runTo needs of a pipeline. */
export type Steppable = Pick<RunPipeline, 'step' | 'runStep' | 'be'>;

/**
 * Run `t` to `until` steps (all stages), disposing step handles. Every `every` steps and at the
 * end, `progress` gets the step once it has *finished* on the device (reading its loss waits for
 * it), not when it was submitted: the GPU can run many steps behind the host.
 */
export async function runTo(t: Steppable, until: number, progress: (s: number) => void, every = 10): Promise<void> {
  while (t.step < until) {
    const h = await t.runStep();
    try {
      if (t.step % every === 0 || t.step === until) {
        await t.be.read(h.loss);
        progress(t.step);
      }
    } finally {
      disposeHandles(h);
    }
  }
  await t.be.flush();
}

/**
 * The teacher's verified completions: `perPrompt` samples for each of `prompts` fresh prompts,
 * kept only when the verifier says accuracy 1 and format 1.
 */
export async function rejectionSample(
  teacher: RunPipeline,
  prompts: number,
  perPrompt: number,
  seed: number,
): Promise<{ generated: number; records: SftRecord[]; examples: SftExample[] }> {
  const rl = teacher.rl!;
  const rng = new Rng((seed ^ 0xd157) >>> 0);
  const items = Array.from({ length: prompts }, () => rl.task.generate(rng, teacher.cfg.rl.difficulty));
  const outs = await rl.rollout(items, perPrompt, teacher.cfg.rl.temperature, Math.floor(rng.next() * 2 ** 32), false);
  const records: SftRecord[] = [];
  const examples: SftExample[] = [];
  for (const o of outs) {
    const v = rl.task.verify(o.item, o.text);
    if (v.accuracy !== 1 || v.format !== 1) continue;
    records.push({ prompt: promptOf(o.item.problem), completion: o.text, answer: o.item.answer });
    examples.push({ prompt: promptOf(o.item.problem), completion: o.text });
  }
  return { generated: outs.length, records, examples };
}

/** Whether a teacher and a student can take part in the experiment; throws naming the problem. */
export function checkDistillConfigs(teacher: RunConfig, student: RunConfig): void {
  if (student.rl.mode !== 'pipeline' || teacher.rl.mode !== 'pipeline')
    throw new Error('distill: teacher and student must be RL pipeline configs (rl.mode "pipeline")');
  if (student.rl.task !== teacher.rl.task || student.rl.difficulty !== teacher.rl.difficulty) {
    throw new Error(
      `distill: teacher (${teacher.rl.task} ${teacher.rl.difficulty}) and student (${student.rl.task} ${student.rl.difficulty}) must share task and difficulty`,
    );
  }
  if (student.rl.grpo_steps < 1)
    throw new Error('distill: the student needs rl.grpo_steps ≥ 1 for the RL arm (it also sets the budget)');
}

export async function distillVsRl(be: Backend, o: DistillOptions): Promise<DistillResult> {
  const log = o.onProgress ?? (() => {});
  const points: DistillPoint[] = [];
  const emit = async (p: DistillPoint) => {
    points.push(p);
    await o.onPoint?.(p);
  };
  const s = o.student;
  checkDistillConfigs(o.teacher, s);

  // 1. Teacher.
  const teacher = new RunPipeline(be, o.teacher, o.seed);
  const teacherVocab = teacher.state.tokenizer.chars.join('');
  let base: Checkpoint;
  let sft: Awaited<ReturnType<typeof rejectionSample>>;
  try {
    const tTotal = teacher.schedule.total;
    await runTo(teacher, tTotal, (st) => log(`teacher step ${st}/${tTotal}`));
    await emit(await evalPoint(teacher, 'teacher', teacher.step, teacher.rl!.tokens));
    // 2. Rejection sampling.
    sft = await rejectionSample(teacher, s.rl.sft_examples, s.rl.group_size, o.seed);
    log(`teacher: ${sft.records.length} of ${sft.generated} completions verified correct`);
    if (!sft.examples.length)
      throw new Error('distill: the teacher produced no verified completion; train it longer or pick an easier task');
  } finally {
    teacher.dispose();
  }

  // 3. Student base.
  const baseCfg: RunConfig = { ...s, rl: { ...s.rl, sft_steps: 0, grpo_steps: 0 } };
  const pre = new RunPipeline(be, baseCfg, o.seed);
  try {
    // One vocabulary: every character of the task and template, whatever each corpus sampled.
    if (pre.state.tokenizer.chars.join('') !== teacherVocab)
      throw new Error('distill: teacher and student vocabularies differ');
    await runTo(pre, s.train.steps, (st) => log(`student pretrain step ${st}/${s.train.steps}`));
    base = await pre.checkpoint('distill-vs-rl', true);
    await emit(await evalPoint(pre, 'base', 0, 0));
  } finally {
    pre.dispose();
  }
  const basePoint = points[points.length - 1];

  // 4a. RL arm: GRPO from the base.
  const every = s.train.eval_every;
  const rlT = new RunPipeline(be, { ...s, rl: { ...s.rl, sft_steps: 0 } }, o.seed);
  let rlFinal: DistillPoint;
  let budget: number;
  try {
    rlT.load(base);
    log(`rl arm step 0/${s.rl.grpo_steps}`);
    for (let k = 1; k <= s.rl.grpo_steps; k++) {
      const h = await rlT.runStep();
      if (k % 5 === 0) await rlT.be.read(h.loss); // logged once finished on the device
      disposeHandles(h);
      if (k % every === 0 || k === s.rl.grpo_steps) await emit(await evalPoint(rlT, 'rl', k, rlT.rl!.tokens));
      else if (k % 5 === 0) log(`rl arm step ${k}/${s.rl.grpo_steps}`);
    }
    budget = rlT.rl!.tokens;
    rlFinal = points[points.length - 1];
  } finally {
    rlT.dispose();
  }

  // 4b. Distillation arm: SFT on the teacher's set until the same token budget.
  const maxSft = 1_000_000;
  const dT = new RunPipeline(be, { ...s, rl: { ...s.rl, sft_steps: maxSft, grpo_steps: 0 } }, o.seed);
  let dFinal: DistillPoint;
  try {
    dT.load(base);
    dT.rl!.useSftSet(sft.examples);
    let k = 0;
    // Evaluate at the same budget marks as the rl arm's points.
    const marks = points.filter((p) => p.arm === 'rl').map((p) => p.tokens);
    let next = 0;
    log(`distill arm step 0 (0/${budget} tokens)`);
    while (dT.rl!.tokens < budget) {
      const h = await dT.runStep();
      // Counted once the step has finished on the device (reading its loss waits for it).
      if ((k + 1) % 20 === 0) await dT.be.read(h.loss);
      disposeHandles(h);
      k++;
      if (next < marks.length && dT.rl!.tokens >= marks[next]) {
        while (next < marks.length && dT.rl!.tokens >= marks[next]) next++;
        if (dT.rl!.tokens < budget) await emit(await evalPoint(dT, 'distill', k, dT.rl!.tokens));
      }
      if (k % 20 === 0) log(`distill arm step ${k} (${dT.rl!.tokens}/${budget} tokens)`);
    }
    await emit(await evalPoint(dT, 'distill', k, dT.rl!.tokens));
    dFinal = points[points.length - 1];
  } finally {
    dT.dispose();
  }
  const teacherPoint = points.find((p) => p.arm === 'teacher')!;
  return {
    points,
    sft: { generated: sft.generated, admitted: sft.records.length, records: sft.records },
    budgetTokens: budget,
    final: { base: basePoint, rl: rlFinal, distill: dFinal, teacher: teacherPoint },
  };
}
