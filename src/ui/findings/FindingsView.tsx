// The Findings view (?view=findings, ?view=findings&finding=NAME): every V3 / R1 claim the lab
// tests, one card each, run in the page's findings worker over N seeds, the paper's figure beside
// the lab's, and a verdict by the rule written on the card. Results are cached in IndexedDB.

import { type JSX, useEffect, useState } from 'react';
import { FINDINGS } from '../../findings';
import { FindingCard } from './FindingCard';
import { decodeFindingsLink, encodeFindingsLink, MAX_PAGE_SEEDS } from './link';
import { useFindings } from './store';
import './findings.css';

export function FindingsView(): JSX.Element {
  const [{ state: linked, problems }] = useState(() => {
    const d = decodeFindingsLink(typeof location !== 'undefined' ? location.search : '');
    // The link's seeds and size, before the first lookup of cached results.
    useFindings.setState({ seeds: d.state.seeds, quick: d.state.quick });
    return d;
  });
  const [only, setOnly] = useState<string | null>(linked.finding);
  const seeds = useFindings((s) => s.seeds);
  const quick = useFindings((s) => s.quick);
  const busy = useFindings((s) => s.busy);
  const { setSeeds, setQuick, loadCached } = useFindings.getState();
  const shown = only ? FINDINGS.filter((f) => f.name === only) : FINDINGS;
  useEffect(() => {
    history.replaceState(
      history.state,
      '',
      `${location.pathname}${encodeFindingsLink({ finding: only, seeds, quick })}${location.hash}`,
    );
    void loadCached(only ? [only] : FINDINGS.map((f) => f.name));
  }, [only, seeds, quick, loadCached]);
  return (
    <div className="findings-view" data-testid="findings-view">
      <h2>Findings: the DeepSeek-V3 and R1 claims, reproduced in the lab</h2>
      <p className="small">
        Each card states a claim, the paper’s figure, the lab’s experiment and a rule decided before the run.{' '}
        <em>Run</em> runs the arms over the seeds on this GPU; the verdict is <strong>reproduced</strong>,{' '}
        <strong>not reproduced</strong> or <strong>inconclusive</strong> (the figures cannot tell, e.g. a difference
        inside its standard error). Quick size is for a first look; the full size is what to quote.
      </p>
      {problems.length > 0 && (
        <div className="notice notice-error" role="alert" data-testid="findings-link-problems">
          {problems.map((p) => (
            <div key={p}>Link: {p}</div>
          ))}
        </div>
      )}
      <div className="sample-tools">
        <label>
          seeds
          <input
            type="number"
            data-testid="findings-seeds"
            min={1}
            max={MAX_PAGE_SEEDS}
            value={seeds}
            disabled={busy !== null}
            onChange={(e) => setSeeds(Math.min(MAX_PAGE_SEEDS, Math.max(1, Math.floor(Number(e.target.value) || 1))))}
          />
        </label>
        <label>
          <input
            type="checkbox"
            data-testid="findings-quick"
            checked={quick}
            disabled={busy !== null}
            onChange={(e) => setQuick(e.target.checked)}
          />{' '}
          quick (fewer steps)
        </label>
        {only && (
          <button type="button" className="link" data-testid="findings-all" onClick={() => setOnly(null)}>
            all findings
          </button>
        )}
      </div>
      {shown.map((f) => (
        <FindingCard key={f.name} f={f} />
      ))}
    </div>
  );
}
