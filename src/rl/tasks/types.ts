// The shape of a toy reasoning task for GRPO: a seeded generator with a difficulty knob, the
// problem text that goes into the R1-style prompt, a plain pretraining line, a short worked
// solution for cold-start SFT, and a verifier that never evaluates text as code.
//
// The tags are the literal strings `<think>`, `</think>`, `<answer>`, `</answer>` (the char
// tokenizer makes each a single special token). No task text uses '<' or '>' for anything else.

import type { Rng } from '../../engine/rng';

export interface TaskItem {
  id: string;
  /** the problem text only (e.g. "12+34"); the pipeline wraps it in the R1-style prompt */
  problem: string;
  /** canonical answer text */
  answer: string;
  /** data the verifier needs (numbers, target, …) */
  data: unknown;
}

export interface Verdict {
  accuracy: 0 | 1;
  /** an answer was found in <answer>…</answer> but it is wrong (TinyZero's 0.1 partial credit applies) */
  partial: boolean;
  /** the completion follows the template: reasoning, then </think><answer>…</answer> and nothing after it */
  format: 0 | 1;
  /** the parsed answer text, or null */
  answer: string | null;
  /** one short reason, e.g. "no <answer> tag", "uses 7 twice", "value 12 ≠ 24" */
  why: string;
}

export interface Task {
  name: string;
  about: string;
  /** characters any problem, answer, plain line or worked solution of this task can contain (for the char tokenizer) */
  alphabet: string;
  /** seeded: the same rng state gives the same item; difficulty 1..5 */
  generate(rng: Rng, difficulty: number): TaskItem;
  /** a pretraining line that does NOT teach the template's reasoning: e.g. "12+34=46" */
  plain(item: TaskItem): string;
  /** a short worked solution in the template body for cold-start SFT: reasoning steps then
   *  `</think><answer>…</answer>` (the prompt ends with "<think>", so the completion starts
   *  with the reasoning) */
  solution(item: TaskItem): string;
  /** score a completion (the text after the prompt's "<think>"); never throws, never evaluates
   *  text as code; bounded work on huge input */
  verify(item: TaskItem, completion: string): Verdict;
}
