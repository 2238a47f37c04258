// WGSL templates: one shader text instantiated once per product of a kernel (the matmul's
// operands, the grouped GEMMs' products). In a template, `$` in names is the product's suffix,
// `P$` its uniform block, `#0` … `#9` its binding numbers counted from `base`, and a line ending
// in `// tag` is dropped when `tag` is among `drop`.

export interface Instance {
  /** Appended to every name written with `$` ('' for a kernel's only product). */
  suffix: string;
  /** The WGSL expression that reads this product's uniform block, e.g. 'p' or 'u.q1'. */
  params: string;
  /** The binding number of `#0`. */
  base: number;
  /** Tags of the lines to leave out. */
  drop?: string[];
  /** Names (after suffixing) to replace by others, e.g. a buffer another product binds. */
  rename?: Record<string, string>;
}

/** Leave out the lines of `text` that end in `// tag` for a tag of `drop`. */
export function dropTagged(text: string, drop: string[]): string {
  const tags = drop.map((d) => `// ${d}`);
  return text
    .split('\n')
    .filter((l) => !tags.some((t) => l.trimEnd().endsWith(t)))
    .join('\n');
}

/** The template's text for one product. */
export function instantiate(template: string, i: Instance): string {
  let text = dropTagged(template, i.drop ?? [])
    .replaceAll('P$', i.params)
    .replaceAll('$', i.suffix)
    .replace(/#([0-9])/g, (_, k: string) => String(i.base + Number(k)));
  for (const [from, to] of Object.entries(i.rename ?? {})) text = text.replace(new RegExp(`\\b${from}\\b`, 'g'), to);
  return text;
}
