// A titled card for one panel of the page. A config panel (`accordion`) folds away on a narrow
// screen (≤ NARROW_PX): it becomes a closed <details> under the charts, opened by its title.

import { type ReactNode, useEffect, useState } from 'react';
import { type FieldSpec, type ConfigPanel, panelFields } from '../../config';

/** Widest screen (CSS px) laid out narrow: controls and charts first, config panels folded. */
export const NARROW_PX = 900;

/** Whether the window is at most NARROW_PX wide (follows resizes and rotations). */
export function useNarrow(): boolean {
  const query = `(max-width: ${NARROW_PX}px)`;
  const [narrow, setNarrow] = useState(() => typeof matchMedia !== 'undefined' && matchMedia(query).matches);
  useEffect(() => {
    if (typeof matchMedia === 'undefined') return;
    const m = matchMedia(query);
    const on = () => setNarrow(m.matches);
    on();
    m.addEventListener('change', on);
    return () => m.removeEventListener('change', on);
  }, [query]);
  return narrow;
}

export function Panel({
  title,
  testId,
  children,
  className,
  aside,
  accordion,
}: {
  title: string;
  testId?: string;
  children: ReactNode;
  className?: string;
  aside?: ReactNode;
  /** A config panel: folded into an accordion on a narrow screen. */
  accordion?: boolean;
}) {
  const narrow = useNarrow();
  const [open, setOpen] = useState(false);
  if (accordion && narrow)
    return (
      <details
        className={`card accordion${className ? ` ${className}` : ''}`}
        data-testid={testId}
        aria-label={title}
        open={open}
        onToggle={(e) => setOpen(e.currentTarget.open)}
      >
        <summary className="card-head">
          <h2>{title}</h2>
        </summary>
        {aside}
        {children}
      </details>
    );
  return (
    <section className={`card${className ? ` ${className}` : ''}`} data-testid={testId} aria-label={title}>
      <div className="card-head">
        <h2>{title}</h2>
        {aside}
      </div>
      {children}
    </section>
  );
}

/**
 * A panel's fields (config's panelFields) as [those of `section`, all others], for a panel that
 * puts one section first or under its own heading (model: arch first; optim: then the loop).
 */
export function splitPanel(panel: ConfigPanel, section: string): [FieldSpec[], FieldSpec[]] {
  const fields = panelFields(panel);
  const first = fields.filter((f) => f.path.startsWith(`${section}.`));
  return [first, fields.filter((f) => !first.includes(f))];
}
