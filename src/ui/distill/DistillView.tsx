// Distillation vs direct RL, one page: a teacher trained with GRPO writes verified completions
// (rejection sampling), and a smaller student starts twice from the same base checkpoint — SFT on
// those completions, or GRPO on its own — at an equal budget of student tokens. Held-out accuracy,
// format rate and response length of both arms are drawn against that budget; the SFT set can be
// read and downloaded as JSON lines. The experiment's settings live in the link (?view=distill&…).

import { useEffect, useMemo, useState } from 'react';
import { applyOverrides, findPreset } from '../../config';
import type { DistillPoint, DistillRequest, DistillResult } from '../../lab/api';
import { MetricChart, type ChartSeries } from '../charts/MetricChart';
import { sftJsonl } from '../../rl/sft-record';
import { download } from '../download';
import { fmtAccuracy, seTitle } from '../stages';
import { CAN_START, useLab } from '../store';
import { distillProgressText } from './progress';
import { DISTILL_DEFAULTS, RL_PRESETS, decodeDistillLink, encodeDistillLink, type DistillLinkState } from './link';

const ARMS: Array<{ arm: DistillPoint['arm']; label: string; color: string; dashed?: boolean }> = [
  { arm: 'distill', label: 'distilled (SFT on teacher)', color: '#2563eb' },
  { arm: 'rl', label: 'direct GRPO', color: '#dc2626' },
];

function seriesOf(
  points: readonly DistillPoint[],
  field: 'heldout_greedy' | 'format_rate' | 'response_len',
): ChartSeries[] {
  const base = points.find((p) => p.arm === 'base');
  const out: ChartSeries[] = ARMS.map(({ arm, label, color }) => {
    // Each arm starts at the base checkpoint (0 tokens).
    const pts = [...(base ? [base] : []), ...points.filter((p) => p.arm === arm)];
    return { label, color, x: pts.map((p) => p.tokens), y: pts.map((p) => p[field]), points: true };
  });
  const teacher = points.find((p) => p.arm === 'teacher');
  if (teacher && field !== 'response_len') {
    const xs = points.filter((p) => p.arm === 'rl' || p.arm === 'distill').map((p) => p.tokens);
    const xMax = xs.length ? Math.max(...xs) : 1;
    out.push({ label: 'teacher', color: '#64748b', dashed: true, x: [0, xMax], y: [teacher[field], teacher[field]] });
  }
  return out;
}

export function DistillView() {
  const distill = useLab((s) => s.distill);
  const [{ state: linked, problems }] = useState(() =>
    decodeDistillLink(typeof location !== 'undefined' ? location.search : ''),
  );
  const [form, setForm] = useState<DistillLinkState>(linked);
  useEffect(() => {
    history.replaceState(history.state, '', `${location.pathname}${encodeDistillLink(form)}${location.hash}`);
  }, [form]);
  const points = distill.points;
  const charts = useMemo(
    () => [
      {
        id: 'distill-accuracy',
        title: 'Held-out accuracy (greedy, share of prompts) vs student tokens',
        s: seriesOf(points, 'heldout_greedy'),
        yRange: [0, 1] as [number, number],
      },
      {
        id: 'distill-format',
        title: 'Format rate (share of completions) vs student tokens',
        s: seriesOf(points, 'format_rate'),
        yRange: [0, 1] as [number, number],
      },
      {
        id: 'distill-length',
        title: 'Response length (tokens) vs student tokens',
        s: seriesOf(points, 'response_len'),
      },
    ],
    [points],
  );
  return (
    <div className="distill-view" data-testid="distill-view">
      <h2>Distillation vs direct RL for a small model</h2>
      <p className="small">
        A teacher ({form.teacher}) is trained through its RL pipeline, then samples completions that the task's verifier
        must score correct and well-formatted (rejection sampling). A smaller student ({form.student}) is pretrained
        once; from that base it is either fine-tuned on the teacher's set or trained with GRPO itself.{' '}
        <strong>Budget:</strong> student tokens processed — rollout prefill and decode, training and reference forwards
        (a backward is not counted separately; evaluation not at all). The SFT arm runs until it has used the GRPO arm's
        budget.
      </p>
      {problems.length > 0 && (
        <div className="notice notice-error" role="alert" data-testid="distill-link-problems">
          {problems.map((p) => (
            <div key={p}>Link: {p}</div>
          ))}
        </div>
      )}
      <DistillForm form={form} setForm={setForm} />
      {distill.error && (
        <div className="notice notice-error" role="alert" data-testid="distill-error">
          The experiment failed: {distill.error}
        </div>
      )}
      <div className="distill-charts">
        {charts.map((c) => (
          <MetricChart
            key={c.id}
            testId={c.id}
            title={c.title}
            series={c.s}
            height={200}
            xLabel="student tokens"
            yRange={'yRange' in c ? c.yRange : undefined}
          />
        ))}
      </div>
      {distill.result && <DistillResultView r={distill.result} req={distill.request} />}
    </div>
  );
}

/** Teacher, student and seed, and the button that runs both arms. */
function DistillForm({ form, setForm }: { form: DistillLinkState; setForm: (f: DistillLinkState) => void }) {
  const distill = useLab((s) => s.distill);
  const phase = useLab((s) => s.phase);
  const runDistill = useLab((s) => s.runDistill);
  const cancelDistill = useLab((s) => s.cancelDistill);
  const running = distill.status === 'running';
  const ready = CAN_START.has(phase);
  const sel = (key: 'teacher' | 'student') => (
    <label>
      {key}
      <select
        data-testid={`distill-${key}`}
        value={form[key]}
        disabled={running}
        onChange={(e) => setForm({ ...form, [key]: e.target.value })}
      >
        {RL_PRESETS.map((n) => (
          <option key={n} value={n}>
            {n}
          </option>
        ))}
      </select>
    </label>
  );
  return (
    <div className="distill-form sample-tools">
      {sel('teacher')}
      {sel('student')}
      <label>
        seed
        <input
          type="number"
          data-testid="distill-seed"
          min={0}
          value={form.seed}
          disabled={running}
          onChange={(e) => setForm({ ...form, seed: Math.max(0, Math.floor(Number(e.target.value) || 0)) })}
        />
      </label>
      <button
        type="button"
        data-testid="distill-start"
        disabled={running || !ready}
        onClick={() => void runDistill({ teacher: form.teacher, student: form.student, seed: form.seed })}
      >
        {running ? 'Running…' : 'Run both arms'}
      </button>
      <button type="button" className="link" disabled={running} onClick={() => setForm(DISTILL_DEFAULTS)}>
        defaults
      </button>
      {running && (
        <button type="button" data-testid="distill-cancel" onClick={() => void cancelDistill()}>
          Cancel
        </button>
      )}
      <span className="muted small" data-testid="distill-progress">
        {running
          ? distillProgressText(distill.progress, distill.points, findPreset(form.student)?.config.rl.grpo_steps ?? 0)
          : distill.progress}
      </span>
    </div>
  );
}

/** Held-out prompts of a preset with overrides (rl.eval_prompts); 0 when unknown. */
function evalPromptsOf(preset: string | undefined, set: DistillRequest['set']): number {
  const p = preset ? findPreset(preset) : undefined;
  if (!p) return 0;
  try {
    return applyOverrides(p.config, set ?? {}).rl.eval_prompts;
  } catch {
    return p.config.rl.eval_prompts;
  }
}

/** The final accuracies (± standard error), and the SFT set (the first 40 records; all of them in the download). */
function DistillResultView({ r, req }: { r: DistillResult; req: DistillRequest | null }) {
  const n = evalPromptsOf(req?.student, req?.set);
  const nTeacher = evalPromptsOf(req?.teacher, req?.setTeacher);
  return (
    <div data-testid="distill-result">
      <p title={seTitle(n)}>
        At {r.budgetTokens.toLocaleString('en-US')} student tokens: distilled{' '}
        <strong>{fmtAccuracy(r.final.distill.heldout_greedy, n)}</strong> vs direct GRPO{' '}
        <strong>{fmtAccuracy(r.final.rl.heldout_greedy, n)}</strong> held-out accuracy (base{' '}
        {fmtAccuracy(r.final.base.heldout_greedy, n)}, teacher {fmtAccuracy(r.final.teacher.heldout_greedy, nTeacher)}
        {', ± one standard error over the held-out prompts'}).
      </p>
      <h3>
        SFT set: {r.sft.admitted} of {r.sft.generated} teacher completions verified{' '}
        <button
          type="button"
          data-testid="distill-download"
          onClick={() => download('sft-set.jsonl', sftJsonl(r.sft.records), 'application/jsonl')}
        >
          Download JSON lines
        </button>
      </h3>
      <table className="rl-rollouts small" data-testid="distill-sft">
        <thead>
          <tr>
            <th>prompt</th>
            <th>completion</th>
          </tr>
        </thead>
        <tbody>
          {r.sft.records.slice(0, 40).map((x, i) => (
            <tr key={i}>
              <td className="rl-text">{x.prompt.replace(/\n/g, '⏎')}</td>
              <td className="rl-text">{x.completion}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {r.sft.records.length > 40 && <p className="muted small">… {r.sft.records.length - 40} more in the download.</p>}
    </div>
  );
}
