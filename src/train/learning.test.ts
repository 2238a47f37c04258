// The model learns: micro-dense on the sentence grammar, on the GPU backend. ln(vocab) is the
// loss of a uniform guess; the threshold is far below what unigram statistics alone give
// (a broken gradient or a model that ignores context cannot reach it).
import { describe, expect, it } from 'vitest';
import type { StepMetrics } from '../lab/api';
import { createLab } from '../lab/lab';
import { gpuBackend } from '../test/gpu';
import { generateCorpus } from './data/corpora';
import { CharTokenizer } from './data/tokenizer';

/** Per-character entropy (nats) of the corpus under a unigram model: a context-free baseline. */
function unigramEntropy(text: string): number {
  const counts = new Map<string, number>();
  for (const ch of text) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  let h = 0;
  for (const n of counts.values()) h -= (n / text.length) * Math.log(n / text.length);
  return h;
}

describe('learning', () => {
  it.each(['micro-dense', 'micro-mla', 'micro-moe', 'micro-v3'])(
    '%s falls from ≈ ln(vocab) to well below half of it on the GPU',
    async (preset) => {
      const lab = createLab(gpuBackend);
      const info = await lab.createRun({
        preset,
        seed: 1,
        steps: STEPS,
        set: { 'train.log_every': 10, 'train.eval_every': STEPS },
      });
      const metrics: StepMetrics[] = [];
      const summary = await lab.train((b) => {
        metrics.push(...b);
      });
      const lnV = Math.log(info.vocabSize);
      const text = generateCorpus('grammar', 200_000, 1);
      expect(CharTokenizer.fromText(text).vocabSize).toBe(info.vocabSize);
      const unigram = unigramEntropy(text);
      console.log(
        `learning ${preset}: ln V = ${lnV.toFixed(3)}, unigram entropy = ${unigram.toFixed(3)}, first loss ${metrics[0].loss.toFixed(3)} → final ${summary.final_loss.toFixed(3)}, val ${summary.final_val_loss?.toFixed(3)}`,
      );
      expect(Math.abs(metrics[0].loss - lnV)).toBeLessThan(0.5); // starts near a uniform guess
      expect(summary.final_loss).toBeLessThan(THRESHOLD * lnV);
      expect(summary.final_val_loss!).toBeLessThan(THRESHOLD * lnV);
      expect(THRESHOLD * lnV).toBeLessThan(0.75 * unigram); // the bar is below context-free statistics
    },
  );
});

const STEPS = 200;
const THRESHOLD = 0.3;
