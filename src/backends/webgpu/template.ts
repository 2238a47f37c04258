// WGSL templates: one shader text instantiated once per product of a kernel (the matmul's
// operands, the grouped GEMMs' products). In a template, `$` in names is the product's suffix,
// `P$` its uniform block, and a line ending in `// tag` is dropped when `tag` is among `drop` (a
// line may end in several: `// own // v4` is dropped with either).
// Bindings are written `@binding(#k)`: the k still present after the drops, in increasing order,
// become base, base + 1, … (two views of one buffer share a k, and so a number).

export interface Instance {
  /** Appended to every name written with `$` ('' for a kernel's only product). */
  suffix: string;
  /** The WGSL expression that reads this product's uniform block, e.g. 'p' or 'u.q1'. */
  params: string;
  /** The binding number of the lowest `#k` left. */
  base: number;
  /** Tags of the lines to leave out. */
  drop?: string[];
  /** Names (after suffixing) to replace by others, e.g. a buffer another product binds. */
  rename?: Record<string, string>;
}

/**
 * Whether a line ends in `// tag` for a tag of `drop`, possibly before further one-word tags:
 * `x; // own // v4` is dropped with own or with v4.
 */
function tagged(line: string, drop: string[]): boolean {
  let rest = line.trimEnd();
  for (;;) {
    if (drop.some((d) => rest.endsWith(`// ${d}`))) return true;
    const m = /\s*\/\/ [\w-]+$/.exec(rest);
    if (!m) return false;
    rest = rest.slice(0, m.index);
  }
}

/** Leave out the lines of `text` tagged (see `tagged`) with a tag of `drop`. */
export function dropTagged(text: string, drop: string[]): string {
  return text
    .split('\n')
    .filter((l) => !tagged(l, drop))
    .join('\n');
}

/** The template's text for one product. */
export function instantiate(template: string, i: Instance): string {
  const kept = dropTagged(template, i.drop ?? []);
  const ks = [...new Set([...kept.matchAll(/@binding\(#([0-9])\)/g)].map((m) => Number(m[1])))].sort((a, b) => a - b);
  let text = kept
    .replaceAll('P$', i.params)
    .replaceAll('$', i.suffix)
    .replace(/@binding\(#([0-9])\)/g, (_, k: string) => `@binding(${i.base + ks.indexOf(Number(k))})`);
  for (const [from, to] of Object.entries(i.rename ?? {})) text = text.replace(new RegExp(`\\b${from}\\b`, 'g'), to);
  return text;
}

/** The section `name` of a shader file cut into sections by `// ==== name` lines (the text up to the next one). */
export function section(text: string, name: string): string {
  const part = text.split(/^\/\/ ==== /m).find((p) => p.startsWith(`${name}\n`));
  if (part === undefined) throw new Error(`no shader section "${name}"`);
  return part.slice(name.length + 1);
}
