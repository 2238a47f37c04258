// Samples of the current run's model: one between training chunks, one on demand, or a plain and
// a speculative one to compare decoding. Each is kept in the run's record, and how it was made
// (prompt, mode, temperature / top-k / top-p, seed) in the store's sampleInfo. A sample between
// chunks has the seed run seed + step; one asked for ("Sample now") the seed field's, or a fresh
// one when the field is empty, so two clicks give two samples and a seed repeats its sample.

import { parseSeed, SEED_MAX } from '../draft';
import type { LabContext } from '../state/context';

export const SAMPLE_LENGTH = 120;
export const SAMPLES_SHOWN = 4;

/** A fresh random seed in [0, 2^32). */
export function freshSeed(): number {
  return crypto.getRandomValues(new Uint32Array(1))[0] % (SEED_MAX + 1);
}

/**
 * The seed for a sample asked for now: the seed field's, a fresh one when the field is empty,
 * or an error when the field does not hold a seed.
 */
export function askedSeed(field: string): { seed: number } | { error: string } {
  return field.trim() === '' ? { seed: freshSeed() } : parseSeed(field);
}

/**
 * Sample once (speculatively when asked and the model has MTP); false when it failed or was not
 * taken. `current()` says whether the run asked for is still the current one.
 */
export async function takeSample(
  ctx: LabContext,
  current: () => boolean,
  speculative = ctx.get().speculative,
  /** The seed asked for; a sample between chunks has run seed + step. */
  seed?: number,
): Promise<boolean> {
  const { set, get } = ctx;
  const { run, hide, temperature, topK, topP, prompt, info } = get();
  const client = ctx.worker.current;
  if (!run || !client || hide.includes('samples')) return false;
  const step = get().progress.step;
  const spec = speculative && (info?.config.model.num_nextn_predict_layers ?? 0) > 0;
  const s = seed ?? (run.seed + step) % (SEED_MAX + 1);
  set({ sampling: true });
  try {
    const res = await client.call((lab) =>
      lab.sample({ prompt, length: SAMPLE_LENGTH, temperature, topK, topP, speculative: spec, seed: s }),
    );
    if (!current()) return false;
    const sample = { step, temperature, text: res.text };
    run.samples.push(sample);
    get().sampleInfo.set(sample, { prompt, mode: res.stats.mode, temperature, topK, topP, seed: s });
    set((s) => ({ version: s.version + 1, decoding: { ...s.decoding, [res.stats.mode]: res.stats } }));
    ctx.history.store.saveLater(run);
    return true;
  } catch (err) {
    if (current()) ctx.reportError(err, 'Could not sample');
    return false;
  } finally {
    set({ sampling: false });
  }
}
