// Samples of the current run's model: one between training chunks, one on demand, or a plain and
// a speculative one to compare decoding. Each is kept in the run's record.

import type { LabContext } from '../state/context';

export const SAMPLE_LENGTH = 120;
export const SAMPLES_SHOWN = 4;

/**
 * Sample once (speculatively when asked and the model has MTP); false when it failed or was not
 * taken. `current()` says whether the run asked for is still the current one.
 */
export async function takeSample(
  ctx: LabContext,
  current: () => boolean,
  speculative = ctx.get().speculative,
): Promise<boolean> {
  const { set, get } = ctx;
  const { run, hide, temperature, topK, topP, prompt, info } = get();
  const client = ctx.worker.current;
  if (!run || !client || hide.includes('samples')) return false;
  const step = get().progress.step;
  const spec = speculative && (info?.config.model.num_nextn_predict_layers ?? 0) > 0;
  set({ sampling: true });
  try {
    const res = await client.call((lab) =>
      lab.sample({
        prompt,
        length: SAMPLE_LENGTH,
        temperature,
        topK,
        topP,
        speculative: spec,
        seed: (run.seed + step) >>> 0,
      }),
    );
    if (!current()) return false;
    run.samples.push({ step, temperature, text: res.text });
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
