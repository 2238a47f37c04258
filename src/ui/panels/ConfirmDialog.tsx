// A small in-page confirmation (no window.confirm: it blocks the main thread and tests).

import { useEffect, useRef } from 'react';
import { useLab } from '../store';

export function ConfirmDialog() {
  const req = useLab((s) => s.confirm);
  const answer = useLab((s) => s.answerConfirm);
  const ok = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    if (req) ok.current?.focus();
  }, [req]);
  if (!req) return null;
  return (
    <div className="dialog-backdrop">
      <div
        className="dialog"
        role="dialog"
        onKeyDown={(e) => e.key === 'Escape' && answer(false)}
        aria-modal="true"
        aria-labelledby="dialog-title"
        data-testid={req.testId}
      >
        <h2 id="dialog-title">{req.title}</h2>
        <p>{req.body}</p>
        <div className="buttons">
          <button
            type="button"
            className="primary"
            ref={ok}
            data-testid={`${req.testId}-ok`}
            onClick={() => answer(true)}
          >
            {req.confirmLabel}
          </button>
          <button type="button" data-testid={`${req.testId}-cancel`} onClick={() => answer(false)}>
            Cancel
          </button>
        </div>
      </div>
    </div>
  );
}
