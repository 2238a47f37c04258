// Policy health in words: the run layer's policyWarnings (a policy that collapses — entropy → 0
// while the reward falls — or one that forgets the answer format) as a warning notice above the
// RL charts, or in the rollout panel when the charts are hidden.

import { useMemo } from 'react';
import type { RunRecord } from '../../lab/runfile';
import { policyWarnings } from '../../run/health';
import { useLab } from '../store';

/** The warnings about the current run's GRPO steps (none for a run without them). */
export function policyNoticeOf(run: RunRecord | null): string[] {
  if (run?.config.rl.mode !== 'pipeline') return [];
  return policyWarnings(run.metrics);
}

/** The notice itself (nothing when there is nothing to say). */
export function PolicyWarnings({ warnings }: { warnings: readonly string[] }) {
  if (!warnings.length) return null;
  return (
    <div className="notice notice-warn policy-warnings" role="status" data-testid="policy-warnings">
      <strong>Policy health</strong>
      <ul className="notice-lines">
        {warnings.map((w) => (
          <li key={w} data-testid="policy-warning">
            {w}
          </li>
        ))}
      </ul>
    </div>
  );
}

/** The notice for the current run, recomputed as its metrics grow. */
export function PolicyNotice() {
  const run = useLab((s) => s.run);
  const version = useLab((s) => s.version);
  // biome-ignore lint/correctness/useExhaustiveDependencies: the run's metrics grow in place (version)
  const warnings = useMemo(() => policyNoticeOf(run), [run, version]);
  return <PolicyWarnings warnings={warnings} />;
}
