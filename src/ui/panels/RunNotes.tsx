// Notes under the run controls that keep the progress honest on any adapter: which preset the
// lab opened on and why, the first step while it compiles the shaders (with a clock), how long a
// step takes, a long projected run (with a one-click switch to a preset that fits), what Pause
// waits for (the running step, with about how long it still takes), and after a reload the offer
// to resume the interrupted run from its checkpoint.

import { useEffect, useState } from 'react';
import { fmtDuration } from '../format';
import { SLOW_ADAPTER_PRESET } from '../state/session-slice';
import { CAN_START, useLab } from '../store';
import type { Progress } from '../state/types';

/** A run projected to take longer than this (ms) is called long, with a switch to a preset that fits. */
export const LONG_RUN_MS = 10 * 60_000;
/** The first step is projected from once it has run this long (ms) without ending. */
const FIRST_STEP_PROJECT_MS = 20_000;

const fmtMs = (ms: number) => (ms < 1000 ? `${Math.round(ms)} ms` : fmtDuration(ms / 1000));

/**
 * The projected time left (ms), and whether it rests on the first step alone (still running at
 * `now`, shader compilation included); null when there is nothing to project from.
 */
export function projectRun(p: Progress, now: number): { ms: number; fromFirst: boolean; running: boolean } | null {
  if (p.total === null) return null;
  const left = p.total - p.step;
  if (p.stepMs !== null) return { ms: left * p.stepMs, fromFirst: false, running: false };
  if (p.firstStepMs !== null) return { ms: left * p.firstStepMs, fromFirst: true, running: false };
  if (p.firstStepSince !== null && now - p.firstStepSince >= FIRST_STEP_PROJECT_MS)
    return { ms: left * (now - p.firstStepSince), fromFirst: true, running: true };
  return null;
}

/** Steps shorter than this (ms) make Pause as good as immediate: no note. */
const PAUSE_NOTE_MS = 2000;

/**
 * What a Pause waits for at `now`: the running step ends first. From the measured step time and
 * how long this step has run, about how long that still is; null while steps are quick.
 */
export function pauseNote(p: Progress, now: number): string | null {
  if (p.firstStepSince !== null)
    return `Pausing after the first step, which compiles the shaders as well; it has run for ${fmtDuration((now - p.firstStepSince) / 1000)} so far.`;
  const per = p.stepMs ?? p.firstStepMs;
  if (per === null) return 'Pausing after this step…';
  if (per < PAUSE_NOTE_MS) return null;
  // Until a second step is timed, the only figure is the first step's, which compiled the shaders too.
  const usual = p.stepMs !== null ? `a step takes about ${fmtMs(per)}` : `the first step took ${fmtMs(per)}`;
  if (p.stepSince === null) return `Pausing after this step (${usual}).`;
  const ran = Math.max(0, now - p.stepSince);
  const left = per - ran;
  if (left >= 1500)
    return `Pausing after this step — ${p.stepMs === null ? 'at most ' : ''}about ${fmtDuration(left / 1000)} left (${usual}).`;
  return `Pausing after this step — any moment now: it has run for ${fmtMs(ran)} and ${usual}.`;
}

/** Re-render every second while `on` (a clock for a step that is still running). */
function useClock(on: boolean): number {
  const [now, setNow] = useState(() => performance.now());
  useEffect(() => {
    if (!on) return;
    const id = setInterval(() => setNow(performance.now()), 1000);
    return () => clearInterval(id);
  }, [on]);
  return on ? Math.max(now, performance.now()) : now;
}

export function RunNotes() {
  const p = useLab((s) => s.progress);
  const phase = useLab((s) => s.phase);
  const training = phase === 'training' || phase === 'pausing';
  const warming = useLab((s) => s.warmup !== null && s.warmup.ms === null);
  const now = useClock((training && p.firstStepSince !== null) || phase === 'pausing' || warming);
  const pausing = phase === 'pausing' ? pauseNote(p, now) : null;
  return (
    <div className="run-notes">
      <OpeningNote />
      <WarmupNote now={now} />
      <ResumeOffer />
      {training && p.firstStepSince !== null && (
        <p className="run-note" data-testid="first-step" role="status">
          <span className="spinner" aria-hidden="true" /> Compiling shaders and running the first step…{' '}
          {fmtDuration((now - p.firstStepSince) / 1000)}
        </p>
      )}
      {p.firstStepMs !== null && (
        <p className="run-note muted small" data-testid="step-timing">
          first step {fmtMs(p.firstStepMs)} (shader compilation included)
          {p.stepMs !== null && <>; then {fmtMs(p.stepMs)} a step</>}
          {p.etaRough && <> — the ETA is from the first step alone until a second one is timed</>}
        </p>
      )}
      {pausing && (
        <p className="run-note small" data-testid="pause-wait" role="status">
          {pausing}
        </p>
      )}
      {training && <LongRun p={p} now={now} />}
    </div>
  );
}

function LongRun({ p, now }: { p: Progress; now: number }) {
  const preset = useLab((s) => s.run?.preset ?? s.presetName);
  const adapter = useLab((s) => s.adapter);
  const switchPreset = useLab((s) => s.switchPreset);
  const proj = projectRun(p, now);
  if (!proj || proj.ms <= LONG_RUN_MS) return null;
  const fits = !preset.startsWith('micro');
  const basis = proj.running
    ? `The first step has run for ${fmtDuration((now - p.firstStepSince!) / 1000)} so far (it compiles the shaders too); if every step took that long`
    : proj.fromFirst
      ? `The first step took ${fmtMs(p.firstStepMs!)} (shader compilation included); if every step took that long`
      : `At ${fmtMs(p.stepMs!)} a step`;
  return (
    <div className="notice notice-warn" data-testid="long-run" role="status">
      <p>
        <strong>This is a long run on this adapter.</strong> {basis}, the {p.total! - p.step} steps left take about{' '}
        <span data-testid="long-run-time">{fmtDuration(proj.ms / 1000)}</span>
        {adapter ? ` on ${adapter}` : ''}.
      </p>
      {fits && (
        <button
          type="button"
          className="primary"
          data-testid="switch-preset"
          onClick={() => void switchPreset(SLOW_ADAPTER_PRESET)}
        >
          Switch to {SLOW_ADAPTER_PRESET} (same V3 parts at CI size) and start it
        </button>
      )}
    </div>
  );
}

function WarmupNote({ now }: { now: number }) {
  const w = useLab((s) => s.warmup);
  if (!w) return null;
  if (w.ms === null)
    return (
      <p className="run-note small" data-testid="warmup" data-state="running" role="status">
        <span className="spinner" aria-hidden="true" /> Compiling {w.preset}'s shaders for this adapter while the page
        is idle… {fmtDuration((now - w.since) / 1000)} (Start waits for it; its first step then need not compile)
      </p>
    );
  return (
    <p className="run-note muted small" data-testid="warmup" data-state="done">
      {w.preset}'s shaders compiled in {fmtMs(w.ms)}.
    </p>
  );
}

function OpeningNote() {
  const note = useLab((s) => s.openingNote);
  const dismiss = useLab((s) => s.dismissOpeningNote);
  if (!note) return null;
  return (
    <p className="run-note muted small" data-testid="opening-note">
      {note}{' '}
      <button type="button" className="link" onClick={dismiss}>
        OK
      </button>
    </p>
  );
}

function ResumeOffer() {
  const offer = useLab((s) => s.resumeOffer);
  const canStart = useLab((s) => s.backend !== null && CAN_START.has(s.phase));
  const resume = useLab((s) => s.resumeSaved);
  const dismiss = useLab((s) => s.dismissResume);
  if (!offer) return null;
  return (
    <div className="notice notice-info" data-testid="resume-offer" role="status">
      <p>
        {offer.name} was interrupted at step {offer.reached} when the page went away. Its checkpoint from step{' '}
        {offer.step} is kept in this browser; resuming continues exactly as if nothing had happened.
      </p>
      <div className="notice-head">
        <button
          type="button"
          className="primary"
          data-testid="resume-run"
          disabled={!canStart}
          onClick={() => void resume(offer.id)}
        >
          Resume {offer.name} from step {offer.step}
        </button>
        <button type="button" className="link" onClick={dismiss}>
          Dismiss
        </button>
      </div>
    </div>
  );
}
