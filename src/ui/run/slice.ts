// The run slice of the page store: the current run's record, columns and progress, and the run
// controls, which the driver turns into state machine events and worker calls.

import { draftFromConfig } from '../draft';
import { checkPresetForBackend, setDraft } from '../state/config-slice';
import type { LabContext } from '../state/context';
import { NO_PROGRESS, type RunSlice } from '../state/types';
import type { RunDriver } from './driver';
import { CAN_START } from './machine';

/** Put a lowp run's config and seed, with f32 linears, in the editor and start it as its twin. */
async function runF32Twin(ctx: LabContext, driver: RunDriver, id: string): Promise<void> {
  const { set, get } = ctx;
  const src = get().runs.find((r) => r.id === id);
  if (src?.config.precision.linear !== 'lowp' || !CAN_START.has(get().phase)) return;
  const cfg = structuredClone(src.config);
  cfg.precision.linear = 'f32';
  set({ presetName: src.preset, seedText: String(src.seed), seedError: null });
  setDraft(ctx, draftFromConfig(cfg));
  checkPresetForBackend(ctx);
  if (!get().evaluated.config || get().presetError) {
    ctx.banner(
      'error',
      `Could not set up the f32 twin of ${src.name}: ${get().presetError ?? Object.values(get().evaluated.errors).join('; ')}`,
    );
    return;
  }
  await driver.startTwin(id);
}

/** Stop and reset the current run (it stays in the table), open `preset` with the same seed, and start it. */
async function switchPreset(ctx: LabContext, driver: RunDriver, preset: string): Promise<void> {
  await driver.resetRun();
  if (!CAN_START.has(ctx.get().phase)) return;
  ctx.get().setPreset(preset);
  await driver.start();
}

export function runSlice(ctx: LabContext, driver: RunDriver): RunSlice {
  return {
    run: null,
    info: null,
    columns: null,
    version: 0,
    progress: NO_PROGRESS,
    sampling: false,
    start: () => driver.start(),
    pause: () => driver.pause(),
    singleStep: () => driver.singleStep(),
    stop: () => driver.stop(),
    reset: () => driver.resetRun(),
    continueFromCheckpoint: () => driver.continueFromCheckpoint(),
    runF32Twin: (id) => runF32Twin(ctx, driver, id),
    resumeOffer: null,
    resumeSaved: (id) => driver.resumeSaved(id),
    dismissResume: () => ctx.set({ resumeOffer: null }),
    switchPreset: (preset) => switchPreset(ctx, driver, preset),
  };
}
