// A run's training text and tokenizer, from its config and seed: the one place that knows every
// corpus kind (the trainer and the exporter must agree on the vocabulary).

import type { RunConfig } from '../config';
import { taskCorpus, taskVocabulary } from '../rl/corpus';
import { findTask } from '../rl/tasks';
import { TaggedTokenizer } from '../rl/tokenizer';
import { generateCorpus, validateUserText } from '../train/data/corpora';
import { CharTokenizer } from '../train/data/tokenizer';

export function runCorpus(cfg: RunConfig, seed: number): { text: string; tokenizer: CharTokenizer } {
  const d = cfg.data;
  if (d.corpus === 'text') {
    validateUserText(d.text, d.seq_len, d.val_fraction);
    return { text: d.text, tokenizer: CharTokenizer.fromText(d.text) };
  }
  if (d.corpus === 'task') {
    const task = findTask(cfg.rl.task);
    if (!task) throw new Error(`rl.task: unknown task "${cfg.rl.task}"`);
    const text = taskCorpus(task, cfg.rl.difficulty, cfg.rl.template_share, d.corpus_chars, seed);
    // Every character generation can produce is in the vocabulary, seen in the corpus or not.
    return { text, tokenizer: new TaggedTokenizer(Array.from(text + taskVocabulary(task))) };
  }
  const text = generateCorpus(d.corpus, d.corpus_chars, seed);
  return { text, tokenizer: CharTokenizer.fromText(text) };
}
