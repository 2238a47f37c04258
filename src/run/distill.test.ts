// Distillation vs RL: rejection sampling admits only completions the verifier scores correct and
// well-formatted (with a teacher that makes both kinds), and, seeded, the student distilled from
// the teacher ends clearly above its base checkpoint on the held-out prompts.
import { describe, expect, it } from 'vitest';
import { applyOverrides } from '../config';
import { findPreset } from '../config';
import { gpuBackend } from '../test/gpu';
import { RunPipeline } from '../run/pipeline';
import { disposeHandles } from '../train/stage';
import { distillVsRl, rejectionSample, sftJsonl } from './distill';
import { findTask } from '../rl/tasks';

describe('distillation', () => {
  it('rejection sampling never admits a completion the verifier scores wrong', async () => {
    const be = await gpuBackend();
    // A half-trained teacher: some completions right, some wrong, some malformed.
    // The pretraining mix is pinned (10% template lines) so preset retuning does not change the test.
    const cfg = applyOverrides(findPreset('grpo-micro')!.config, {
      'train.steps': 80,
      'rl.template_share': 0.1,
      'rl.grpo_steps': 1,
    });
    const t = new RunPipeline(be, cfg, 4);
    try {
      while (t.step < 80) disposeHandles(await t.runStep());
      const res = await rejectionSample(t, 24, 8, 9);
      const task = findTask('addition')!;
      console.log(`[distill] rejection sampling: ${res.records.length} of ${res.generated} admitted`);
      expect(res.generated).toBe(24 * 8);
      expect(res.records.length).toBeGreaterThan(0);
      expect(res.records.length).toBeLessThan(res.generated); // the filter really rejected some
      for (const r of res.records) {
        const problem = r.prompt.replace(/^Q:/, '').replace(/\nA:<think>$/, '');
        const v = task.verify({ id: '', problem, answer: r.answer, data: null }, r.completion);
        expect(v.accuracy, `${r.prompt} ${r.completion}`).toBe(1);
        expect(v.format, `${r.prompt} ${r.completion}`).toBe(1);
      }
      // JSON lines: one object per admitted completion.
      const lines = sftJsonl(res.records).trim().split('\n');
      expect(lines).toHaveLength(res.records.length);
      expect(JSON.parse(lines[0])).toMatchObject({
        prompt: expect.stringMatching(/^Q:/),
        completion: expect.stringMatching(/<\/answer>$/),
      });
    } finally {
      t.dispose();
    }
  });

  it('the distilled student ends clearly above its base checkpoint (seeded, micro)', async () => {
    const be = await gpuBackend();
    // Sizes pinned so preset retuning does not change the test: a teacher pretrained 200 steps on
    // 10% template lines (it answers most sums), 8 prompts per GRPO step for both.
    const teacher = applyOverrides(findPreset('grpo-micro')!.config, {
      'train.steps': 200,
      'rl.template_share': 0.1,
      'rl.prompts_per_step': 8,
      'rl.grpo_steps': 5,
      'rl.eval_prompts': 32,
    });
    const student = applyOverrides(findPreset('distill-vs-rl')!.config, {
      'rl.prompts_per_step': 8,
      'train.steps': 100,
      'rl.grpo_steps': 6,
      'train.eval_every': 3,
      'rl.sft_examples': 32,
    });
    const res = await distillVsRl(be, { teacher, student, seed: 1 });
    const f = res.final;
    console.log(
      `[distill] budget ${res.budgetTokens} tokens; held-out greedy: teacher ${f.teacher.heldout_greedy.toFixed(3)}, base ${f.base.heldout_greedy.toFixed(3)}, rl ${f.rl.heldout_greedy.toFixed(3)}, distill ${f.distill.heldout_greedy.toFixed(3)}; SFT ${res.sft.admitted}/${res.sft.generated}`,
    );
    expect(f.distill.tokens).toBeGreaterThanOrEqual(res.budgetTokens); // equal budget (the last SFT step may pass it)
    expect(f.rl.tokens).toBe(res.budgetTokens);
    expect(f.distill.heldout_greedy).toBeGreaterThan(f.base.heldout_greedy + 0.1);
  });
});
