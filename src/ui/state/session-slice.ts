// The page's session: boot (the share link, the run history, the worker and its GPU), the
// CPU reference as a fallback, and the run's phase as the run state machine reports it.

import { DEFAULT_PRESET, decodeLink } from '../../lab/share';
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

/** The preset the lab opens on where v3-tiny would not train at interactive speed. */
export const SLOW_ADAPTER_PRESET = 'micro-v3';

/** Software renderers (SwiftShader, lavapipe/llvmpipe, WARP), where a v3-tiny step takes minutes. */
export function isSoftwareAdapter(label: string): boolean {
  return /swiftshader|lavapipe|llvmpipe|softpipe|software|basic render|\bwarp\b/i.test(label);
}

/** Opened without a link: v3-tiny on a hardware GPU, micro-v3 on a software one; the page says which and why. */
function chooseOpeningPreset(ctx: LabContext): void {
  const s = ctx.get();
  if (s.backend !== 'webgpu' || !s.adapter || s.run || s.presetName !== DEFAULT_PRESET) return;
  if (isSoftwareAdapter(s.adapter)) {
    s.setPreset(SLOW_ADAPTER_PRESET);
    ctx.set({
      openingNote:
        `Opened on ${SLOW_ADAPTER_PRESET}: this adapter (${s.adapter}) is a software renderer, where one ` +
        `${DEFAULT_PRESET} step takes minutes. ${SLOW_ADAPTER_PRESET} has every V3 part (MLA, DeepSeekMoE, MTP) ` +
        `at CI size and trains at a readable pace here. On a hardware GPU the lab opens on ${DEFAULT_PRESET}.`,
    });
  } else {
    ctx.set({
      openingNote:
        `Opened on ${DEFAULT_PRESET}, the browser-sized V3: on a hardware GPU (${s.adapter}) it trains at ` +
        `interactive speed. On a software renderer the lab opens on ${SLOW_ADAPTER_PRESET} instead.`,
    });
  }
}

export function sessionSlice(ctx: LabContext, driver: RunDriver): SessionSlice {
  return {
    phase: INITIAL_RUN_STATE.phase,
    adapter: null,
    backend: null,
    features: [],
    openingNote: null,
    warmup: null,
    async boot() {
      // The link first (so the panels show it at once), then history, then the GPU.
      const linked = typeof location !== 'undefined' && location.hash.length > 1;
      if (linked) applyLink(ctx, decodeLink(location.hash));
      await Promise.all([loadHistory(ctx), driver.connect('webgpu')]);
      if (!linked) {
        chooseOpeningPreset(ctx);
        // A lecturer opens the page before class: by Start, the first step need not compile. Only
        // on the Lab view: the Pipelines, Distill and Findings views (?view=…) do not start a run
        // from the opening preset, and a minutes-long compile on a software adapter would slow them.
        const view = typeof location === 'undefined' ? null : new URLSearchParams(location.search).get('view');
        if (!view || view === 'lab') driver.warmUp(ctx.get().presetName);
      }
    },
    dismissOpeningNote: () => ctx.set({ openingNote: null }),
    useCpu: () => useCpu(ctx, driver),
  };
}
