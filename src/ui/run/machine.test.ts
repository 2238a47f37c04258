// The run state machine: every allowed transition (written out here by hand, not read from the
// module's table), every other (phase, event) pair rejected, the two requests, and the phase sets
// the page's buttons use.

import { describe, expect, it } from 'vitest';
import {
  CAN_START,
  CAN_STOP,
  INITIAL_RUN_STATE,
  PHASES,
  type Phase,
  RUN_ACTIVE,
  type RunEvent,
  type RunState,
  transition,
} from './machine';

const EVENTS: RunEvent[] = [
  'connect',
  'connected',
  'connect-failed',
  'create',
  'create-failed',
  'train',
  'pause',
  'paused',
  'step',
  'stop',
  'stopped',
  'sample',
  'sampled',
  'finished',
  'device-lost',
  'failed',
  'reset',
];

/** [from, event, to] for a state without requests. */
const ALLOWED: Array<[Phase, RunEvent, Phase]> = [
  ['connecting', 'connect', 'connecting'],
  ['unavailable', 'connect', 'connecting'],
  ['idle', 'connect', 'connecting'],
  ['done', 'connect', 'connecting'],
  ['stopped', 'connect', 'connecting'],
  ['failed', 'connect', 'connecting'],
  ['connecting', 'connected', 'idle'],
  ['connecting', 'connect-failed', 'unavailable'],
  ['idle', 'create', 'starting'],
  ['done', 'create', 'starting'],
  ['stopped', 'create', 'starting'],
  ['failed', 'create', 'starting'],
  ['starting', 'create-failed', 'idle'],
  ['starting', 'train', 'training'],
  ['paused', 'train', 'training'],
  ['lost', 'train', 'training'],
  ['training', 'pause', 'pausing'],
  ['starting', 'paused', 'paused'],
  ['training', 'paused', 'paused'],
  ['pausing', 'paused', 'paused'],
  ['stepping', 'paused', 'paused'],
  ['paused', 'step', 'stepping'],
  ['starting', 'stop', 'starting'],
  ['training', 'stop', 'stopping'],
  ['pausing', 'stop', 'stopping'],
  ['paused', 'stop', 'stopped'],
  ['lost', 'stop', 'stopped'],
  ['training', 'stopped', 'stopped'],
  ['pausing', 'stopped', 'stopped'],
  ['stopping', 'stopped', 'stopped'],
  ['training', 'sample', 'training'],
  ['training', 'sampled', 'training'],
  ['pausing', 'sampled', 'pausing'],
  ['training', 'finished', 'done'],
  ['pausing', 'finished', 'done'],
  ['stopping', 'finished', 'done'],
  ['stepping', 'finished', 'done'],
  ['training', 'device-lost', 'lost'],
  ['pausing', 'device-lost', 'lost'],
  ['stopping', 'device-lost', 'lost'],
  ['stepping', 'device-lost', 'lost'],
  ['lost', 'device-lost', 'lost'],
  ['training', 'failed', 'failed'],
  ['pausing', 'failed', 'failed'],
  ['stopping', 'failed', 'failed'],
  ['stepping', 'failed', 'failed'],
  ['lost', 'failed', 'failed'],
  ['idle', 'reset', 'idle'],
  ['starting', 'reset', 'idle'],
  ['done', 'reset', 'idle'],
  ['stopped', 'reset', 'idle'],
  ['failed', 'reset', 'idle'],
  ['lost', 'reset', 'idle'],
];

const at = (phase: Phase, req: Partial<RunState> = {}): RunState => ({
  phase,
  stopRequested: false,
  sampleRequested: false,
  ...req,
});

describe('run state machine', () => {
  it('starts connecting with no requests', () => {
    expect(INITIAL_RUN_STATE).toEqual(at('connecting'));
  });

  it.each(ALLOWED)('%s --%s--> %s', (from, event, target) => {
    expect(transition(at(from), event)?.phase).toBe(target);
  });

  it('rejects every other (phase, event) pair', () => {
    const allowed = new Set(ALLOWED.map(([f, e]) => `${f} ${e}`));
    const rejected: string[] = [];
    for (const p of PHASES) {
      for (const e of EVENTS) {
        if (allowed.has(`${p} ${e}`)) continue;
        if (transition(at(p), e) !== null) rejected.push(`${p} ${e}`);
      }
    }
    expect(rejected).toEqual([]);
    // As the page did: no Pause unless training, no Stop while stepping or stopping, no new
    // run while one is active, no second step while one is running, no reconnect mid-run.
    expect(transition(at('paused'), 'pause')).toBeNull();
    expect(transition(at('stepping'), 'stop')).toBeNull();
    expect(transition(at('stopping'), 'stop')).toBeNull();
    expect(transition(at('done'), 'stop')).toBeNull();
    expect(transition(at('training'), 'create')).toBeNull();
    expect(transition(at('stepping'), 'step')).toBeNull();
    expect(transition(at('paused'), 'connect')).toBeNull();
    expect(transition(at('unavailable'), 'reset')).toBeNull();
    expect(transition(at('pausing'), 'sample')).toBeNull();
  });

  it('Stop while starting is remembered: the built run can only end', () => {
    const s = transition(at('starting'), 'stop')!;
    expect(s).toEqual(at('starting', { stopRequested: true }));
    expect(transition(s, 'stop')).toEqual(s);
    expect(transition(s, 'train')).toBeNull();
    expect(transition(s, 'paused')).toBeNull();
    expect(transition(s, 'stopped')).toEqual(at('stopped'));
    expect(transition(at('starting'), 'stopped')).toBeNull();
    // A failed build or a reset drops the request; a new run starts without it.
    expect(transition(s, 'create-failed')).toEqual(at('idle'));
    expect(transition(s, 'reset')).toEqual(at('idle'));
    expect(transition(at('stopped'), 'create')).toEqual(at('starting'));
  });

  it('a sample asked for mid-chunk is kept into pausing and cleared once taken or on the next loop', () => {
    const s = transition(at('training'), 'sample')!;
    expect(s).toEqual(at('training', { sampleRequested: true }));
    const pausing = transition(s, 'pause')!;
    expect(pausing).toEqual(at('pausing', { sampleRequested: true }));
    expect(transition(pausing, 'sampled')).toEqual(at('pausing'));
    expect(transition(s, 'sampled')).toEqual(at('training'));
    expect(transition(pausing, 'paused')).toEqual(at('paused'));
    expect(transition(s, 'stop')).toEqual(at('stopping'));
  });

  it('walks a run: start, pause, step, resume, finish; and device loss, continue, stop', () => {
    const walk = (events: RunEvent[], from: RunState = at('connecting')) =>
      events.reduce<RunState | null>((s, e) => (s ? transition(s, e) : null), from)?.phase;
    expect(walk(['connected', 'create', 'train', 'pause', 'paused', 'step', 'paused', 'train', 'finished'])).toBe(
      'done',
    );
    expect(walk(['connected', 'create', 'paused', 'step', 'finished'])).toBe('done');
    expect(walk(['connected', 'create', 'train', 'device-lost', 'train', 'stop', 'stopped', 'reset'])).toBe('idle');
    expect(walk(['connected', 'create', 'train', 'device-lost', 'stop'])).toBe('stopped');
    expect(walk(['connect-failed', 'connect', 'connected', 'create', 'create-failed'])).toBe('idle');
    expect(walk(['connected', 'create', 'train', 'failed', 'create'])).toBe('starting');
  });

  it('the button sets follow the table', () => {
    expect([...CAN_START].sort()).toEqual(['done', 'failed', 'idle', 'stopped']);
    expect([...CAN_STOP].sort()).toEqual(['lost', 'paused', 'pausing', 'starting', 'training']);
    expect([...RUN_ACTIVE].sort()).toEqual([
      'lost',
      'paused',
      'pausing',
      'starting',
      'stepping',
      'stopping',
      'training',
    ]);
  });
});
