// The config draft: preset, seed and the raw text of every field, evaluated into a validated
// RunConfig as it is typed (draft.ts). Live fields of a running lab are sent on commit; a change
// that needs a new model asks first, then stops and resets the run.

import { findField, findPreset, getPath, PRESETS, type RunConfig, withPath } from '../../config';
import type { LiveChange } from '../../lab/api';
import { DEFAULT_PRESET } from '../../lab/share';
import { type Draft, draftFromConfig, evaluateDraft, parseSeed } from '../draft';
import type { RunDriver } from '../run/driver';
import { RUN_ACTIVE } from '../run/machine';
import type { LabContext } from './context';
import type { ConfigSlice, ConfirmRequest } from './types';

/** Presets the slow CPU reference can run. */
export const isMicroPreset = (name: string) => name.startsWith('micro');

export function presetConfig(name: string): RunConfig {
  return (findPreset(name) ?? findPreset(DEFAULT_PRESET) ?? PRESETS[0]).config;
}

/** A preset's draft, keeping the text the user gave (data.text is never part of a preset). */
export function loadPresetDraft(name: string, keepText: string): Draft {
  return { ...draftFromConfig(presetConfig(name)), 'data.text': keepText };
}

export function setDraft(ctx: LabContext, draft: Draft): void {
  ctx.set({ draft, evaluated: evaluateDraft(draft) });
}

export function checkPresetForBackend(ctx: LabContext): void {
  const { backend, presetName } = ctx.get();
  ctx.set({
    presetError: backend === 'cpu' && !isMicroPreset(presetName) ? 'the CPU reference runs micro presets only' : null,
  });
}

/**
 * Apply an edit; if it needs a new model while a run is in the worker, ask first, then stop and
 * reset the run (it stays in the history) and apply it.
 */
export function applyOrConfirmReset(
  ctx: LabContext,
  driver: RunDriver,
  needsNewModel: boolean,
  req: ConfirmRequest,
  apply: () => void,
): void {
  if (!needsNewModel || !RUN_ACTIVE.has(ctx.get().phase)) {
    apply();
    return;
  }
  ctx.askConfirm(req, async () => {
    await driver.resetRun();
    apply();
  });
}

const resetRequest = (title: string, body: string): ConfirmRequest => ({
  testId: 'confirm-reset',
  title,
  body,
  confirmLabel: 'Stop and reset',
});

/** Send a live field's committed value to the running lab and record the change on the run. */
async function commitLiveField(ctx: LabContext, path: string): Promise<void> {
  const { set, get } = ctx;
  const f = findField(path);
  const { info, run, phase, evaluated, draft } = get();
  const client = ctx.worker.current;
  if (!f?.live || !info || !run || !RUN_ACTIVE.has(phase) || !client) return;
  if (evaluated.errors[path]) return;
  const raw = draft[path];
  if (String(getPath(info.config ?? run.config, path)) === raw) return;
  let change: LiveChange;
  try {
    change = await client.call((lab) => lab.setLive(path, raw));
  } catch (err) {
    ctx.reportError(err, `Could not change ${path}`);
    return;
  }
  if (get().run !== run) return;
  run.changes.push(change);
  const config = withPath(get().info?.config ?? run.config, path, change.value);
  set((s) => ({ info: s.info ? { ...s.info, config } : s.info, version: s.version + 1 }));
  ctx.history.store.saveLater(run);
}

/** A text file for corpus "text"; one too big to fit is refused without reading it. */
async function loadTextFile(ctx: LabContext, file: File): Promise<void> {
  const f = findField('data.text');
  const max = f && f.kind === 'string' ? f.maxLength : Infinity;
  // A character is at least one byte of UTF-8: a file this big cannot fit; don't even read it.
  if (file.size > max * 4) {
    const { evaluated } = ctx.get();
    ctx.set({
      evaluated: {
        ...evaluated,
        config: null,
        errors: {
          ...evaluated.errors,
          'data.text': `${file.name} is ${(file.size / 1e6).toFixed(1)} MB; the limit is ${max.toLocaleString('en-US')} characters`,
        },
      },
    });
    return;
  }
  const text = await file.text();
  ctx.get().setField('data.text', text);
}

const initialDraft = draftFromConfig(presetConfig(DEFAULT_PRESET));

export function configSlice(ctx: LabContext, driver: RunDriver): ConfigSlice {
  const { set, get } = ctx;
  return {
    presetName: DEFAULT_PRESET,
    seedText: '0',
    draft: initialDraft,
    evaluated: evaluateDraft(initialDraft),
    seedError: null,
    presetError: null,
    hide: [],
    liveScript: [],

    setPreset(name) {
      const body =
        'A new preset needs a new model: the current run will be stopped (it stays in the runs table) and reset.';
      applyOrConfirmReset(ctx, driver, true, resetRequest(`Load preset ${name}?`, body), () => {
        set({ presetName: name, liveScript: [] });
        setDraft(ctx, loadPresetDraft(name, get().draft['data.text'] ?? ''));
        checkPresetForBackend(ctx);
      });
    },

    setSeed(text) {
      const body =
        'A new seed needs a new model: the current run will be stopped (it stays in the runs table) and reset.';
      applyOrConfirmReset(ctx, driver, true, resetRequest('Change the seed?', body), () => {
        const r = parseSeed(text);
        set({ seedText: text, seedError: 'error' in r ? r.error : null });
      });
    },

    setField(path, text) {
      const f = findField(path);
      if (!f) return;
      const body = `${path} cannot change during a run (it needs a new model or new data). The current run will be stopped (it stays in the runs table) and reset.`;
      applyOrConfirmReset(ctx, driver, !f.live, resetRequest(`Change ${path}?`, body), () =>
        setDraft(ctx, { ...get().draft, [path]: text }),
      );
    },

    commitField: (path) => commitLiveField(ctx, path),
    loadTextFile: (file) => loadTextFile(ctx, file),
  };
}
