// View settings (chart scale and smoothing, sampling options), notices and the confirm dialog.

import type { LabContext } from './context';
import type { UiSlice } from './types';

export function uiSlice(ctx: LabContext): UiSlice {
  const { set } = ctx;
  return {
    logY: false,
    smoothing: 0,
    temperature: 0.8,
    topK: 0,
    topP: 1,
    speculative: false,
    prompt: '',
    sampleSeed: '',
    banners: [],
    confirm: null,
    setTemperature(t) {
      set({ temperature: t });
    },
    setSampling(p) {
      set(p);
    },
    setPrompt(p) {
      set({ prompt: p });
    },
    setSampleSeed(text) {
      set({ sampleSeed: text });
    },
    setLogY(on) {
      set({ logY: on });
    },
    setSmoothing(v) {
      set({ smoothing: v });
    },
    answerConfirm: (yes) => ctx.answerConfirm(yes),
    reportError: (err, title) => ctx.reportError(err, title),
    dismissBanner(id) {
      set((s) => ({ banners: s.banners.filter((b) => b.id !== id) }));
    },
  };
}
