// The rollout viewer: the latest GRPO step's first group — one prompt, G completions — with the
// template's tags highlighted and each completion's reward, advantage and verdict. A teacher can
// point at why a completion was rewarded (or not) and how the group's advantages spread.

import type { StepMetrics } from '../../lab/api';
import { Schedule } from '../../run/schedule';
import { useLab } from '../store';
import { Panel } from './Panel';
import { PolicyNotice } from './PolicyNotice';

const TAG = /(<\/?(?:think|answer)>)/g;

function Tagged({ text }: { text: string }) {
  return (
    <>
      {text.split(TAG).map((part, i) =>
        i % 2 === 1 ? (
          <span key={i} className={`rl-tag rl-tag-${part.includes('answer') ? 'answer' : 'think'}`}>
            {part}
          </span>
        ) : (
          <span key={i}>{part}</span>
        ),
      )}
    </>
  );
}

export function RolloutPanel() {
  useLab((s) => s.version);
  const run = useLab((s) => s.run);
  // The policy-health notice sits above the RL charts; with the charts hidden, it comes here.
  const chartsHidden = useLab((s) => s.hide.includes('charts'));
  const latest: StepMetrics | undefined = run ? [...run.metrics].reverse().find((m) => m.rollout) : undefined;
  if (run?.config.rl?.mode !== 'pipeline') return null;
  const sft = new Schedule(run.config).stages.some((st) => st.name === 'sft');
  return (
    <Panel title="Rollouts (GRPO)" testId="panel-rollouts">
      {chartsHidden && <PolicyNotice />}
      {!latest?.rollout ? (
        <p className="muted small">
          After pretraining{sft ? ' and SFT' : ''}, each logged GRPO step shows its first group of completions here.
        </p>
      ) : (
        <div data-testid="rollout-group">
          <p className="small">
            step {latest.step} · prompt <code className="rl-prompt">{latest.rollout.prompt.replace(/\n/g, '⏎')}</code>
          </p>
          <table className="rl-rollouts small">
            <thead>
              <tr>
                <th>completion</th>
                <th title="reward under rl.reward">reward</th>
                <th title="group-relative advantage">adv.</th>
                <th title="verifier: accuracy / format, and why">verdict</th>
              </tr>
            </thead>
            <tbody>
              {latest.rollout.completions.map((c, i) => (
                <tr key={i} data-testid="rollout-row" className={c.accuracy ? 'rl-right' : 'rl-wrong'}>
                  <td className="rl-text">
                    <Tagged text={c.text} />
                  </td>
                  <td className="num">{c.reward.toFixed(2)}</td>
                  <td className={`num ${c.advantage > 0 ? 'pos' : c.advantage < 0 ? 'neg' : ''}`}>
                    {c.advantage.toFixed(2)}
                  </td>
                  <td>
                    {c.accuracy ? '✓' : '✗'} {c.format ? 'fmt' : 'no fmt'} <span className="muted">{c.why}</span>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </Panel>
  );
}
