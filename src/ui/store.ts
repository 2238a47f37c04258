// Page state (zustand) and the actions that drive the lab worker. Components read fields of this
// store and call its actions; they never talk to the worker themselves.
//
// One store, composed of slices by concern (state/types.ts has their shapes):
//   session   phase, adapter, backend; boot and the CPU fallback        state/session-slice.ts
//   config    the draft being edited (preset, seed, fields)             state/config-slice.ts
//   run       the current run and its controls                          run/slice.ts → run/driver.ts
//   jobs      samples on demand, inspections, distillation              state/jobs-slice.ts
//   history   the runs table, baseline and overlays (IndexedDB)         state/runs-slice.ts
//   files     run / weights import and export                          state/files-slice.ts
//   share     share links                                               state/share-slice.ts
//   ui        view settings, banners, the confirm dialog                state/ui-slice.ts
// The run's lifecycle is a state machine (run/machine.ts: phases, events, transition table);
// the driver (run/driver.ts) dispatches its events and calls the worker.

import { create } from 'zustand';
import { startLabWorker, type LabClient } from './lab-client';
import type { RunStoreLike } from './persist';
import { RunDriver } from './run/driver';
import { runSlice } from './run/slice';
import { configSlice } from './state/config-slice';
import { LabContext } from './state/context';
import { filesSlice } from './state/files-slice';
import { jobsSlice } from './state/jobs-slice';
import { historySlice } from './state/runs-slice';
import { RunHistory, WorkerLink } from './state/services';
import { sessionSlice } from './state/session-slice';
import { linkHashOf, shareSlice } from './state/share-slice';
import type { LabState } from './state/types';
import { uiSlice } from './state/ui-slice';

export {
  CAN_COMPARE,
  CAN_INSPECT,
  CAN_SAMPLE,
  CAN_START,
  CAN_STOP,
  type Phase,
  RUN_ACTIVE,
} from './run/machine';
export { SAMPLE_LENGTH, SAMPLES_SHOWN } from './run/sampler';
export { isMicroPreset } from './state/config-slice';
export { NO_WEBGPU_MESSAGE } from './state/session-slice';
export type {
  AttentionView,
  Banner,
  ConfirmRequest,
  Inspection,
  LabState,
  Progress,
  QuantView,
} from './state/types';

// The worker client and the history are module-level (one page, one worker) so that tests can
// replace what builds them after the store exists; both are made lazily, on first use.
const worker = new WorkerLink(startLabWorker);
const history = new RunHistory((err, what) => useLab.getState().reportError(err, what));

export const useLab = create<LabState>()((set, get) => {
  const ctx = new LabContext(set, get, worker, history);
  const driver = new RunDriver(ctx);
  return {
    ...sessionSlice(ctx, driver),
    ...configSlice(ctx, driver),
    ...runSlice(ctx, driver),
    ...jobsSlice(ctx, driver),
    ...historySlice(ctx),
    ...filesSlice(ctx),
    ...shareSlice(ctx, driver),
    ...uiSlice(ctx),
  };
});

/** For tests: build the store's worker client some other way. */
export function setLabClientFactory(factory: () => LabClient): void {
  worker.setFactory(factory);
}

/** For tests: keep the run history somewhere other than IndexedDB. */
export function setRunStoreOpener(open: () => Promise<RunStoreLike>): void {
  history.setOpener(open);
}

/** Resolves once the end-of-run saves and every pending IndexedDB write have landed. */
export function whenSaved(): Promise<void> {
  return history.whenSaved();
}

/** The link (hash without '#') for the editor's current state. */
export function currentLinkHash(): string {
  return linkHashOf(useLab.getState());
}
