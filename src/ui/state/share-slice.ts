// Share links: the editor's preset, seed, changed values and hidden panels as the URL hash
// (lab/share.ts), copied to the clipboard or opened from the address bar. A link opened while a
// run is in the worker asks first: it sets up a new run.

import { configDiff, decodeLink, type DecodedLink, encodeLink } from '../../lab/share';
import { draftDiff, draftWith, parseSeed } from '../draft';
import type { RunDriver } from '../run/driver';
import { applyOrConfirmReset, checkPresetForBackend, loadPresetDraft, presetConfig, setDraft } from './config-slice';
import type { LabContext } from './context';
import type { LabState, ShareSlice } from './types';

/**
 * The link (hash without '#'): for a current run with live changes, the config it *started* with
 * plus its changes (replayed at their steps when the link is started); else the editor's state,
 * with the live changes a link brought in and no run has replayed yet.
 */
export function linkHashOf(
  s: Pick<LabState, 'presetName' | 'seedText' | 'draft' | 'hide' | 'run' | 'liveScript'>,
): string {
  const run = s.run;
  if (run?.changes.length) {
    const set = configDiff(presetConfig(run.preset), run.config);
    return encodeLink({ preset: run.preset, seed: run.seed, set, hide: s.hide, live: run.changes });
  }
  const seed = parseSeed(s.seedText);
  return encodeLink({
    preset: s.presetName,
    seed: 'seed' in seed ? seed.seed : 0,
    set: draftDiff(presetConfig(s.presetName), s.draft),
    hide: s.hide,
    live: s.liveScript,
  });
}

/** Apply a decoded share link to the editor (preset, seed, values, hidden panels). */
export function applyLink(ctx: LabContext, link: DecodedLink): void {
  const { state, problems, migrated } = link;
  const draft = draftWith(loadPresetDraft(state.preset, ctx.get().draft['data.text'] ?? ''), state.set);
  ctx.set({
    presetName: state.preset,
    seedText: String(state.seed),
    seedError: null,
    hide: state.hide,
    presetError: null,
    liveScript: state.live ?? [],
  });
  setDraft(ctx, draft);
  checkPresetForBackend(ctx);
  if (problems.length) ctx.banner('error', "This link has problems; the preset's values are used for these:", problems);
  if (migrated.length) ctx.banner('info', 'This link is from an older version of the lab and was updated:', migrated);
}

async function copyShareLink(ctx: LabContext): Promise<void> {
  const url = `${location.origin}${location.pathname}#${linkHashOf(ctx.get())}`;
  let copied = false;
  try {
    if (navigator.clipboard?.writeText) {
      await Promise.race([
        navigator.clipboard.writeText(url),
        new Promise((_, rej) => setTimeout(() => rej(new Error('timeout')), 1000)),
      ]);
      copied = true;
    }
  } catch {
    copied = false;
  }
  ctx.set({ shareUrl: url, shareCopied: copied });
}

export function shareSlice(ctx: LabContext, driver: RunDriver): ShareSlice {
  return {
    shareUrl: null,
    shareCopied: false,
    copyShareLink: () => copyShareLink(ctx),
    openLink(hash) {
      const link = decodeLink(hash);
      const req = {
        testId: 'confirm-link',
        title: 'Open this link?',
        body: 'The link sets up a new run: the current run will be stopped (it stays in the runs table) and reset.',
        confirmLabel: 'Stop and open',
      } as const;
      applyOrConfirmReset(ctx, driver, true, req, () => applyLink(ctx, link));
    },
  };
}
