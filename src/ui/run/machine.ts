// The page's run as a state machine: the phases the page shows (`Phase`, also what
// `window.__v3lab.phase()` reports), the events that move between them, and two requests that
// ride along with a phase. Pure data and one pure function; the driver (driver.ts) dispatches
// events as the user acts and as the worker answers, and does the work each transition implies.
//
//   phase        event            next        who sends it
//   ───────────  ───────────────  ──────────  ─────────────────────────────────────────────────
//   connecting,  connect          connecting  boot, "use the CPU reference", a new worker after
//   unavailable,                              a crash (never while a run is in the worker)
//   idle, done,
//   stopped,
//   failed
//   connecting   connected        idle        the worker acquired a device
//   connecting   connect-failed   unavailable no WebGPU here, or the backend failed to start
//   idle, done,  create           starting    Start, or Step with no run: build model and data
//   stopped,
//   failed
//   starting     create-failed    idle        the lab refused the config or crashed
//   starting     stop             starting*   Stop while building: the run ends once built
//   starting*    stopped          stopped     …and here it ends
//   starting     train            training    the new run starts its training loop
//   paused       train            training    Resume
//   lost         train            training    Continue from the last checkpoint (restored)
//   starting     paused           paused      Step from idle: the run is built, at rest
//   training,    paused           paused      a chunk ended after Pause; a single step ended
//   pausing,
//   stepping
//   training     pause            pausing     Pause (the chunk halts at its next step)
//   training     sample           training+   Sample now: the chunk is cut short for a sample
//   training+,   sampled          (same)      the loop took the asked-for sample
//   pausing+
//   paused       step             stepping    Step
//   training,    stop             stopping    Stop
//   pausing
//   paused, lost stop             stopped     Stop (nothing is training: the run ends at once)
//   training,    stopped          stopped     the lab halted on a stop
//   pausing,
//   stopping
//   training,    finished         done        the run's last step
//   pausing,
//   stopping,
//   stepping
//   training,    device-lost      lost        the GPU device was lost (data kept; can continue)
//   pausing,
//   stopping,
//   stepping,
//   lost
//   training,    failed           failed      any other error while training or continuing, or the
//   pausing,                                  run diverged (a non-finite loss: the lab stopped it)
//   stopping,
//   stepping,
//   lost
//   idle,        reset            idle        Reset (after the run was halted), or a confirmed
//   starting,                                 change that needs a new model
//   done,
//   stopped,
//   failed, lost
//
//   * stopRequested: Stop was pressed while the run was being built (only in `starting`).
//   + sampleRequested: a sample was asked for mid-chunk (kept from training into pausing).
//
// Any other (phase, event) pair is rejected: transition() returns null and the caller does
// nothing, which is what the page always did (Pause when not training, Stop while stepping,
// Start while a run is active, …).

export type Phase =
  | 'connecting' // asking the worker for a GPU
  | 'unavailable' // no WebGPU here (the CPU reference can be chosen)
  | 'idle' // ready, no run in the worker
  | 'starting' // building model, data and optimizer
  | 'training'
  | 'pausing'
  | 'paused'
  | 'stepping' // one single step
  | 'stopping'
  | 'done'
  | 'stopped'
  | 'failed'
  | 'lost'; // the GPU device was lost: paused, data kept, can continue from a checkpoint

export const PHASES: readonly Phase[] = [
  'connecting',
  'unavailable',
  'idle',
  'starting',
  'training',
  'pausing',
  'paused',
  'stepping',
  'stopping',
  'done',
  'stopped',
  'failed',
  'lost',
];

export type RunEvent =
  | 'connect'
  | 'connected'
  | 'connect-failed'
  | 'create'
  | 'create-failed'
  | 'train'
  | 'pause'
  | 'paused'
  | 'step'
  | 'stop'
  | 'stopped'
  | 'sample'
  | 'sampled'
  | 'finished'
  | 'device-lost'
  | 'failed'
  | 'reset';

export interface RunState {
  phase: Phase;
  /** Stop was pressed while the run was being built; it ends as soon as it exists (`starting` only). */
  stopRequested: boolean;
  /** A sample was asked for mid-chunk; the loop takes it after the chunk (`training`/`pausing` only). */
  sampleRequested: boolean;
}

export const INITIAL_RUN_STATE: RunState = { phase: 'connecting', stopRequested: false, sampleRequested: false };

const NO_RUN_IN_WORKER: readonly Phase[] = ['connecting', 'unavailable', 'idle', 'done', 'stopped', 'failed'];
const LOOP: readonly Phase[] = ['training', 'pausing', 'stopping', 'stepping'];

const to = (target: Phase, from: readonly Phase[]): Partial<Record<Phase, Phase>> =>
  Object.fromEntries(from.map((p) => [p, target]));

/** The transitions by event and phase, before the request guards below. */
export const TRANSITIONS: { readonly [E in RunEvent]: Readonly<Partial<Record<Phase, Phase>>> } = {
  connect: to('connecting', NO_RUN_IN_WORKER),
  connected: { connecting: 'idle' },
  'connect-failed': { connecting: 'unavailable' },
  create: to('starting', ['idle', 'done', 'stopped', 'failed']),
  'create-failed': { starting: 'idle' },
  train: to('training', ['starting', 'paused', 'lost']),
  pause: { training: 'pausing' },
  paused: to('paused', ['starting', 'training', 'pausing', 'stepping']),
  step: { paused: 'stepping' },
  stop: { starting: 'starting', training: 'stopping', pausing: 'stopping', paused: 'stopped', lost: 'stopped' },
  stopped: to('stopped', ['starting', 'training', 'pausing', 'stopping']),
  sample: { training: 'training' },
  sampled: { training: 'training', pausing: 'pausing' },
  finished: to('done', LOOP),
  'device-lost': to('lost', [...LOOP, 'lost']),
  failed: to('failed', [...LOOP, 'lost']),
  reset: to('idle', ['idle', 'starting', 'done', 'stopped', 'failed', 'lost']),
};

/** Guards on the requests: a run asked to stop while starting can only end. */
function allowed(s: RunState, e: RunEvent): boolean {
  if (s.phase !== 'starting') return true;
  if (e === 'stopped') return s.stopRequested;
  if (e === 'train' || e === 'paused') return !s.stopRequested;
  return true;
}

/** The state after `event`, or null when the event does not apply in this state (ignored). */
export function transition(s: RunState, event: RunEvent): RunState | null {
  const next = TRANSITIONS[event][s.phase];
  if (next === undefined || !allowed(s, event)) return null;
  const sampleKept = (next === 'training' || next === 'pausing') && event !== 'train' && event !== 'sampled';
  return {
    phase: next,
    stopRequested: next === 'starting' && event === 'stop',
    sampleRequested: event === 'sample' || (sampleKept && s.sampleRequested),
  };
}

/** The phases in which `event` is accepted (ignoring the request guards). */
export function phasesAccepting(event: RunEvent): ReadonlySet<Phase> {
  return new Set(Object.keys(TRANSITIONS[event]) as Phase[]);
}

/** Phases with a run in the worker that live settings apply to (others edit the next run). */
export const RUN_ACTIVE: ReadonlySet<Phase> = new Set(PHASES.filter((p) => !NO_RUN_IN_WORKER.includes(p)));
/** Phases in which Start creates a new run. */
export const CAN_START: ReadonlySet<Phase> = phasesAccepting('create');
/** Phases in which Stop ends the run. */
export const CAN_STOP: ReadonlySet<Phase> = phasesAccepting('stop');
/** Phases in which the current run can be inspected (attention, quantization); while training, between chunks. */
export const CAN_INSPECT: ReadonlySet<Phase> = new Set(['training', 'paused', 'done', 'stopped']);
/** Phases in which a sample can be asked for (while training it is taken after the chunk). */
export const CAN_SAMPLE: ReadonlySet<Phase> = new Set(['training', 'paused', 'done', 'stopped']);
/** Phases in which plain and speculative decoding can be compared (nothing is training). */
export const CAN_COMPARE: ReadonlySet<Phase> = new Set(['paused', 'done', 'stopped']);
