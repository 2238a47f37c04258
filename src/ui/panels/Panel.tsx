// A titled card for one panel of the page.

import type { ReactNode } from 'react';

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

export const sectionFields = <T extends { path: string }>(fields: readonly T[], section: string, skip: string[] = []) =>
  fields.filter((f) => f.path.startsWith(`${section}.`) && !skip.includes(f.path));
