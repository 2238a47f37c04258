// The task registry for GRPO on toy reasoning tasks. Each task lives in its own file; see
// ./types.ts for the interface and ./common.ts for the reward facts (format, last answer,
// partial credit) that every verifier shares.

import { type RlTaskName, TASK_NAMES } from '../../config';
import { addition } from './addition';
import { chainSum } from './chain-sum';
import { alphabetOf } from './common';
import { countdown } from './countdown';
import { modular } from './modular';
import { multiplication } from './multiplication';
import { sorting } from './sorting';
import type { Task } from './types';

export type { Task, TaskItem, Verdict } from './types';
export {
  ANSWER_CLOSE,
  ANSWER_OPEN,
  MAX_COMPLETION_CHARS,
  TAGS,
  THINK_CLOSE,
  THINK_OPEN,
  checkFormat,
  lastAnswer,
} from './common';
export { makeCountdown } from './countdown';

/** The task of each name in the config's TASK_NAMES: a name without a task fails to compile. */
const BY_NAME: Record<RlTaskName, Task> = {
  addition,
  multiplication,
  countdown,
  'chain-sum': chainSum,
  sorting,
  modular,
};

export const TASKS: readonly Task[] = TASK_NAMES.map((n) => BY_NAME[n]);

export function findTask(name: string): Task | undefined {
  return TASKS.find((t) => t.name === name);
}

/** Every character any registered task's text can contain (tags excluded). */
export const TASK_ALPHABET: string = alphabetOf(...TASKS.map((t) => t.alphabet));
