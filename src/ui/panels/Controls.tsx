// Run controls and progress: Start/Resume, Pause, Step, Stop, Reset, and big readable numbers
// (step / total, the stage's own figures, tokens/s, ETA) for a lecture hall.

import { fmtDuration, fmtLoss, fmtRate } from '../format';
import { fmtAccuracy, STAGE_LABEL, seTitle } from '../stages';
import { CAN_START, CAN_STOP, RUN_ACTIVE, useLab, type Phase } from '../store';
import { RunNotes } from './RunNotes';

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
      <RunNotes />
    </section>
  );
}

/** One headline number. */
function Figure({
  label,
  testId,
  title,
  children,
}: {
  label: string;
  testId: string;
  title?: string;
  children: string;
}) {
  return (
    <div title={title}>
      <dt>{label}</dt>
      <dd data-testid={testId}>{children}</dd>
    </div>
  );
}

/**
 * The headline: step, the stage's own figures, tokens/s and ETA. A plain run shows its loss and
 * validation loss. An RL pipeline run names its stage; pretraining and SFT show their LM loss,
 * GRPO its mean reward (its `loss` is a surrogate objective, charted on its own, never shown as
 * a loss), and every stage the latest held-out accuracy with its standard error.
 */
function Progress() {
  const p = useLab((s) => s.progress);
  const staged = useLab((s) => s.run?.config.rl.mode === 'pipeline');
  const evalPrompts = useLab((s) => s.run?.config.rl.eval_prompts ?? 0);
  const stage = p.stage;
  const lossLabel = !staged ? 'loss' : stage === 'sft' ? 'SFT loss' : 'LM loss';
  return (
    <dl className="progress" data-testid="headline" data-stage={stage ?? ''}>
      <Figure label="step" testId="step-count">{`${p.step} / ${p.total ?? '–'}`}</Figure>
      {staged && (
        <Figure label="stage" testId="headline-stage" title="pretraining → cold-start SFT → GRPO">
          {stage ? STAGE_LABEL[stage] : '–'}
        </Figure>
      )}
      {stage === 'grpo' ? (
        <Figure label="reward" testId="headline-reward" title="mean reward of this GRPO step's completions">
          {fmtReward(p.reward)}
        </Figure>
      ) : (
        <>
          <Figure label={lossLabel} testId="loss-latest">
            {fmtLoss(p.loss)}
          </Figure>
          <Figure label="val loss" testId="val-loss" title="language-model loss on held-out text">
            {fmtLoss(p.valLoss)}
          </Figure>
        </>
      )}
      {staged && (
        <Figure label="held-out acc." testId="headline-heldout" title={`greedy accuracy; ${seTitle(evalPrompts)}`}>
          {fmtAccuracy(p.heldout, evalPrompts)}
        </Figure>
      )}
      <Figure label="tokens/s" testId="tokens-per-s">
        {fmtRate(p.tokensPerS)}
      </Figure>
      <Figure
        label="ETA"
        testId="eta"
        title={p.etaRough ? 'from the first step alone, which includes compiling the shaders: likely less' : undefined}
      >
        {`${p.etaRough ? '≤ ' : ''}${fmtDuration(p.etaS)}`}
      </Figure>
    </dl>
  );
}

const fmtReward = (r: number | null) => (r === null || !Number.isFinite(r) ? '–' : r.toFixed(3));
