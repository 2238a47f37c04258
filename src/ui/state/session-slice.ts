// The page's session: boot (the share link, the run history, the worker and its GPU), the
// CPU reference as a fallback, and the run's phase as the run state machine reports it.

import { decodeLink } from '../../lab/share';
import type { RunDriver } from '../run/driver';
import { INITIAL_RUN_STATE, RUN_ACTIVE } from '../run/machine';
import { isMicroPreset } from './config-slice';
import type { LabContext } from './context';
import { loadHistory } from './runs-slice';
import { applyLink } from './share-slice';
import type { SessionSlice } from './types';

export const NO_WEBGPU_MESSAGE =
  'This browser did not provide WebGPU, which v3lab uses to train on your GPU. WebGPU is available in ' +
  'Chrome and Edge 113+, Safari 26+, and Firefox 141+ on Windows. On Linux, Chrome needs the ' +
  '--enable-unsafe-webgpu flag (or chrome://flags → "Unsafe WebGPU Support").';

async function useCpu(ctx: LabContext, driver: RunDriver): Promise<void> {
  if (RUN_ACTIVE.has(ctx.get().phase)) return;
  await driver.connect('cpu');
  // The CPU reference runs micro presets only: move a browser-sized pick to its CI-sized twin.
  const from = ctx.get().presetName;
  if (!isMicroPreset(from)) {
    ctx.get().setPreset('micro-v3');
    ctx.banner(
      'info',
      `The CPU reference runs micro presets only, so the lab switched from ${from} to micro-v3 (the same V3 parts at CI size).`,
    );
  }
}

export function sessionSlice(ctx: LabContext, driver: RunDriver): SessionSlice {
  return {
    phase: INITIAL_RUN_STATE.phase,
    adapter: null,
    backend: null,
    features: [],
    async boot() {
      // The link first (so the panels show it at once), then history, then the GPU.
      if (typeof location !== 'undefined' && location.hash.length > 1) applyLink(ctx, decodeLink(location.hash));
      await Promise.all([loadHistory(ctx), driver.connect('webgpu')]);
    },
    useCpu: () => useCpu(ctx, driver),
  };
}
