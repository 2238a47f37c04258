// A titled card for one panel of the page.

import type { ReactNode } from 'react';
import { type FieldSpec, type ConfigPanel, panelFields } from '../../config';

export function Panel({
  title,
  testId,
  children,
  className,
  aside,
}: {
  title: string;
  testId?: string;
  children: ReactNode;
  className?: string;
  aside?: ReactNode;
}) {
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
