// Errors and notices. Errors (and the device-lost notice, with its "continue" action) sit in the
// error banner; informational notes in their own. Dismissing a banner never touches run data.

import { useLab, type Banner } from '../store';

function BannerItem({ b }: { b: Banner }) {
  const dismiss = useLab((s) => s.dismissBanner);
  const continueFromCheckpoint = useLab((s) => s.continueFromCheckpoint);
  const phase = useLab((s) => s.phase);
  return (
    <div className="banner-item">
      <div className="notice-head">
        <strong>{b.title}</strong>
        <button
          type="button"
          className="link"
          onClick={() => dismiss(b.id)}
          aria-label="Dismiss"
          data-testid="banner-dismiss"
        >
          Dismiss
        </button>
      </div>
      {b.lines.length > 0 && (
        <ul className="notice-lines">
          {b.lines.map((l, i) => (
            <li key={i}>{l}</li>
          ))}
        </ul>
      )}
      {b.kind === 'lost' && phase === 'lost' && (
        <button
          type="button"
          className="primary"
          data-testid="continue-from-checkpoint"
          onClick={() => void continueFromCheckpoint()}
        >
          Continue from last checkpoint
        </button>
      )}
    </div>
  );
}

export function Banners() {
  const banners = useLab((s) => s.banners);
  const errors = banners.filter((b) => b.kind !== 'info');
  const infos = banners.filter((b) => b.kind === 'info');
  return (
    <>
      {errors.length > 0 && (
        <div className="notice notice-error" role="alert" data-testid="error-banner">
          {errors.map((b) => (
            <BannerItem key={b.id} b={b} />
          ))}
        </div>
      )}
      {infos.length > 0 && (
        <div className="notice notice-info" role="status" data-testid="info-banner">
          {infos.map((b) => (
            <BannerItem key={b.id} b={b} />
          ))}
        </div>
      )}
    </>
  );
}
