// Run controls and progress: Start/Resume, Pause, Step, Stop, Reset, and big readable numbers
// (step / total, latest loss, val loss, tokens/s, ETA) for a lecture hall.

import { fmtDuration, fmtLoss, fmtRate } from '../format';
import { CAN_START, CAN_STOP, RUN_ACTIVE, useLab, type Phase } from '../store';

const PHASE_TEXT: Record<Phase, string> = {
  connecting: 'Connecting…',
  unavailable: 'No WebGPU',
  idle: 'Ready',
  starting: 'Building model and data…',
  training: 'Training',
  pausing: 'Pausing…',
  paused: 'Paused',
  stepping: 'Stepping…',
  stopping: 'Stopping…',
  done: 'Done',
  stopped: 'Stopped',
  failed: 'Failed',
  lost: 'GPU lost',
};

export function Controls() {
  const phase = useLab((s) => s.phase);
  const valid = useLab((s) => s.evaluated.config !== null && !s.seedError && !s.presetError);
  const hasBackend = useLab((s) => s.backend !== null);
  const start = useLab((s) => s.start);
  const pause = useLab((s) => s.pause);
  const singleStep = useLab((s) => s.singleStep);
  const stop = useLab((s) => s.stop);
  const reset = useLab((s) => s.reset);
  const hasRun = useLab((s) => s.run !== null);

  const canStart = (phase === 'paused' && valid) || (CAN_START.has(phase) && valid && hasBackend);
  const canStep = phase === 'paused' || (CAN_START.has(phase) && valid && hasBackend);
  const why = !valid ? 'Fix the marked fields to start.' : !hasBackend && CAN_START.has(phase) ? 'No backend yet.' : '';

  return (
    <section className="controls card" aria-label="Run controls" data-testid="panel-controls">
      <div className="buttons">
        <button
          type="button"
          className="primary"
          data-testid="run-start"
          disabled={!canStart}
          onClick={() => void start()}
          title={why || undefined}
        >
          {phase === 'paused' ? 'Resume' : phase === 'starting' ? 'Starting…' : 'Start'}
        </button>
        <button type="button" data-testid="run-pause" disabled={phase !== 'training'} onClick={() => void pause()}>
          Pause
        </button>
        <button
          type="button"
          data-testid="run-step"
          disabled={!canStep}
          onClick={() => void singleStep()}
          title="train exactly one step"
        >
          Step
        </button>
        <button type="button" data-testid="run-stop" disabled={!CAN_STOP.has(phase)} onClick={() => void stop()}>
          Stop
        </button>
        <button
          type="button"
          data-testid="run-reset"
          disabled={!hasRun || phase === 'starting' || phase === 'connecting'}
          onClick={() => void reset()}
          title="stop the run (it stays in the runs table) and clear the charts"
        >
          Reset
        </button>
        <span className={`phase phase-${phase}`} data-testid="run-phase" data-phase={phase}>
          {PHASE_TEXT[phase]}
        </span>
        {why && !RUN_ACTIVE.has(phase) && <span className="muted small">{why}</span>}
      </div>
      <Progress />
    </section>
  );
}

function Progress() {
  const p = useLab((s) => s.progress);
  return (
    <dl className="progress">
      <div>
        <dt>step</dt>
        <dd data-testid="step-count">
          {p.step} / {p.total ?? '–'}
        </dd>
      </div>
      <div>
        <dt>loss</dt>
        <dd data-testid="loss-latest">{fmtLoss(p.loss)}</dd>
      </div>
      <div>
        <dt>val loss</dt>
        <dd data-testid="val-loss">{fmtLoss(p.valLoss)}</dd>
      </div>
      <div>
        <dt>tokens/s</dt>
        <dd data-testid="tokens-per-s">{fmtRate(p.tokensPerS)}</dd>
      </div>
      <div>
        <dt>ETA</dt>
        <dd data-testid="eta">{fmtDuration(p.etaS)}</dd>
      </div>
    </dl>
  );
}
