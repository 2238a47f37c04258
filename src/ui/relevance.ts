// Which settings matter for the config being edited. A field whose help starts with a tag such
// as "MLA:" or "MoE loss-free balancing:" belongs to the option of the same name of some enum
// field (arch.attention = mla, arch.ffn = moe, optim.schedule = wsd). While that enum is set to
// something else, the panels fold those fields away (they stay in the config and the link).

import { FIELDS, type FieldSpec } from '../config';

const TAG = /^([A-Za-z][A-Za-z0-9]*)[^:]{0,40}:\s/;

/** The enum field and option a field depends on, or null if it always matters. */
export function dependsOn(
  f: FieldSpec,
  all: readonly FieldSpec[] = FIELDS,
): { path: string; option: string; tag: string } | null {
  const m = TAG.exec(f.help);
  if (!m) return null;
  const tag = m[1];
  const want = tag.toLowerCase();
  for (const g of all) {
    if (g.kind === 'enum' && g !== f && g.options.includes(want)) return { path: g.path, option: want, tag };
  }
  return null;
}

export interface FoldedGroup {
  tag: string;
  /** The enum field that switches the group on, and its current value. */
  path: string;
  option: string;
  current: string;
  fields: FieldSpec[];
}

/** Split fields into those that matter now and folded groups of those that do not. */
export function splitByRelevance(
  fields: readonly FieldSpec[],
  draft: Record<string, string>,
): { shown: FieldSpec[]; folded: FoldedGroup[] } {
  const shown: FieldSpec[] = [];
  const folded = new Map<string, FoldedGroup>();
  for (const f of fields) {
    const dep = dependsOn(f);
    if (!dep || draft[dep.path] === dep.option) {
      shown.push(f);
      continue;
    }
    const key = `${dep.path}=${dep.option}`;
    let g = folded.get(key);
    if (!g)
      folded.set(
        key,
        (g = { tag: dep.tag, path: dep.path, option: dep.option, current: draft[dep.path] ?? '', fields: [] }),
      );
    g.fields.push(f);
  }
  return { shown, folded: [...folded.values()] };
}

/** A short string that changes exactly when some field's relevance may change (for selectors). */
export function relevanceKey(draft: Record<string, string>): string {
  return FIELDS.filter((f) => f.kind === 'enum')
    .map((f) => draft[f.path] ?? '')
    .join('|');
}
