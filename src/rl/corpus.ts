// Pretraining text for the RL pipeline, and the cold-start SFT set.
//
// The base model must have a small but non-zero success rate, or GRPO has nothing to reinforce
// (every group all wrong → zero advantages). So the pretraining text mixes two kinds of line:
//   - plain lines, `plain(item)` (e.g. "12+34=46"): the task's arithmetic without any template;
//   - a share `rl.template_share` of template lines with an EMPTY think:
//       "Q:12+34\nA:<think></think><answer>46</answer>"
// The model learns the facts from the first and that answers go in tags from the second, but it
// never sees a worked reasoning step: that is what SFT (the R1 path) or RL has to find. The share
// sets how much GRPO can elicit: at 10% the micro base already answers most sums greedily; at 2%
// (grpo-micro) it knows them from the plain lines but answers ≈ 0.55–0.75 in the template; at 0.5%
// (r1-zero) ≈ 5–30%.

import { Rng } from '../engine/rng';
import { TEMPLATE_CHARS, promptOf, toTokenText } from './template';
import type { Task, TaskItem } from './tasks/types';

/** The template line with an empty think: format, no reasoning. */
export function answerOnlyLine(item: TaskItem): string {
  return `${promptOf(item.problem)}</think><answer>${item.answer}</answer>`;
}

/** About `chars` characters of pretraining text in token form (tags as single characters). */
export function taskCorpus(task: Task, difficulty: number, templateShare: number, chars: number, seed: number): string {
  const rng = new Rng(seed ^ 0x7a5c);
  const parts: string[] = [];
  let n = 0;
  while (n < chars) {
    const item = task.generate(rng, difficulty);
    const line = toTokenText(`${rng.next() < templateShare ? answerOnlyLine(item) : task.plain(item)}\n`);
    parts.push(line);
    n += line.length;
  }
  return parts.join('');
}

/** Every character the pipeline can produce for a task, in token form: the tokenizer's vocabulary. */
export function taskVocabulary(task: Task): string {
  return task.alphabet + TEMPLATE_CHARS;
}

export interface SftExample {
  /** The prompt (ends with <think>). */
  prompt: string;
  /** The worked solution (ends with </answer>). */
  completion: string;
}

/** The cold-start set: `n` worked solutions in the template, from their own seed stream. */
export function sftSet(task: Task, difficulty: number, n: number, seed: number): SftExample[] {
  const rng = new Rng(seed ^ 0x5f7);
  return Array.from({ length: n }, () => {
    const item = task.generate(rng, difficulty);
    return { prompt: promptOf(item.problem), completion: task.solution(item) };
  });
}
