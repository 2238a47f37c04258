// One config field, generated from its FieldSpec: its config name and plain-language label, a text
// input or a select, its help as the title, for a V3 / R1 knob a one-line note with the paper's
// section, its validation error under it, a "live" badge for settings that apply mid-run, and a
// mark when it differs from the preset. Live fields are sent to a running lab on commit (Enter,
// blur, or a select change), so typing "0.001" does not send 0, 0.0 and 0.00 on the way.

import { type ReactNode, useState } from 'react';
import { type FieldSpec, fieldGroups, findPreset, getPath } from '../../config';
import { fieldKey } from '../format';
import { relevanceKey, splitByRelevance } from '../relevance';
import { RUN_ACTIVE, useLab } from '../store';

export function FieldInput({ field }: { field: FieldSpec }) {
  const { path } = field;
  const value = useLab((s) => s.draft[path] ?? '');
  const error = useLab((s) => s.evaluated.errors[path]);
  const changed = useLab((s) => {
    const p = findPreset(s.presetName);
    return !!p && path !== 'data.text' && String(getPath(p.config, path)) !== (s.draft[path] ?? '');
  });
  const active = useLab((s) => RUN_ACTIVE.has(s.phase));
  const busy = useLab((s) => s.phase === 'starting' || s.phase === 'stopping');
  const setField = useLab((s) => s.setField);
  const commitField = useLab((s) => s.commitField);

  const key = fieldKey(path);
  const id = `field-${path}`;
  const errId = `${id}-error`;
  const common = {
    id,
    'data-testid': `config-${path}`,
    title: field.help,
    disabled: busy,
    'aria-invalid': error ? true : undefined,
    'aria-describedby': error ? errId : undefined,
  } as const;

  const options = field.kind === 'enum' ? field.options : field.kind === 'bool' ? ['true', 'false'] : null;
  const input = options ? (
    <select
      {...common}
      value={value}
      onChange={(e) => {
        setField(path, e.target.value);
        void commitField(path);
      }}
    >
      {options.map((o) => (
        <option key={o} value={o}>
          {o}
        </option>
      ))}
    </select>
  ) : (
    <input
      {...common}
      type="text"
      inputMode="decimal"
      spellCheck={false}
      autoComplete="off"
      value={value}
      onChange={(e) => setField(path, e.target.value)}
      onBlur={() => void commitField(path)}
      onKeyDown={(e) => {
        if (e.key === 'Enter') void commitField(path);
      }}
    />
  );

  return (
    <div className={`field${error ? ' field-invalid' : ''}${changed ? ' field-changed' : ''}`}>
      <label htmlFor={id} title={field.help}>
        <span className="field-name">{key}</span>
        <span className="field-label" data-testid={`field-label-${path}`}>
          {field.label}
        </span>
        {field.live && (
          <span
            className={`badge${active ? ' badge-on' : ''}`}
            title="safe to change during a run: applies at the next step"
          >
            live
          </span>
        )}
      </label>
      {input}
      {field.note && (
        <span className="field-note" data-testid={`field-note-${path}`}>
          {field.note}
        </span>
      )}
      {error && (
        <span className="field-error" id={errId} data-testid={`config-error-${path}`} role="alert">
          {error}
        </span>
      )}
    </div>
  );
}

/**
 * Fields of a panel: the basic ones shown, the advanced ones in a closed "Advanced" group under
 * them (config's fieldGroups). Settings the current config does not use (MLA's while attention is
 * mha, …) are folded into a closed group of their own instead, basic and advanced together. A
 * group with an invalid value opens (and stays open until the user closes it).
 */
export function FieldGrid({ fields, name }: { fields: readonly FieldSpec[]; name: string }) {
  useLab((s) => relevanceKey(s.draft)); // re-group when an enum that switches a group changes
  const draft = useLab.getState().draft;
  const errors = useLab((s) => s.evaluated.errors);
  const { shown, folded } = splitByRelevance(fields, draft);
  const { basic, advanced } = fieldGroups(shown);
  return (
    <>
      <div className="field-grid">
        {basic.map((f) => (
          <FieldInput key={f.path} field={f} />
        ))}
      </div>
      {advanced.length > 0 && (
        <Fold
          className="field-group field-advanced"
          testId={`advanced-${name}`}
          invalid={advanced.some((f) => errors[f.path])}
          summary={
            <>
              Advanced {name} settings <span className="muted small">({advanced.length})</span>
            </>
          }
        >
          <div className="field-grid">
            {advanced.map((f) => (
              <FieldInput key={f.path} field={f} />
            ))}
          </div>
        </Fold>
      )}
      {folded.map((g) => (
        <Fold
          key={`${g.path}=${g.option}`}
          className="field-group"
          invalid={g.fields.some((f) => errors[f.path])}
          summary={
            <>
              {g.tag} settings{' '}
              <span className="muted small">
                (used when {fieldKey(g.path)} = {g.option}; now {g.current})
              </span>
            </>
          }
        >
          <div className="field-grid">
            {basicFirst(g.fields).map((f) => (
              <FieldInput key={f.path} field={f} />
            ))}
          </div>
        </Fold>
      ))}
    </>
  );
}

function basicFirst(fields: readonly FieldSpec[]): FieldSpec[] {
  const { basic, advanced } = fieldGroups(fields);
  return [...basic, ...advanced];
}

/** A closed group of fields: it opens when a field inside is invalid, and stays as the user leaves it. */
function Fold({
  className,
  testId,
  invalid,
  summary,
  children,
}: {
  className: string;
  testId?: string;
  invalid: boolean;
  summary: ReactNode;
  children: ReactNode;
}) {
  const [open, setOpen] = useState(false);
  return (
    <details
      className={className}
      data-testid={testId}
      open={open || invalid}
      onToggle={(e) => setOpen(e.currentTarget.open)}
    >
      <summary>{summary}</summary>
      {children}
    </details>
  );
}
