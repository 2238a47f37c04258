// Parsing and validating run configs: one field's text value, a set of --set overrides, a whole
// config with the cross-field rules. Every error names the field.

import { ConfigError } from './errors';
import { type FieldValue, getPath, setPath } from './paths';
import { FIELDS, findField, RL_DEFAULTS, type RunConfig, RunConfigSchema } from './schema';

/** The config with sections and keys in schema order (stable JSON whatever built the object). */
export function canonicalConfig(c: RunConfig): RunConfig {
  const out = {} as RunConfig;
  for (const f of FIELDS) setPath(out, f.path, getPath(c, f.path));
  return out;
}

/** A decimal number: optional sign, digits with an optional fraction, optional exponent. */
export const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** Parse a value given as text (CLI, URL) for a field; errors name the field. */
export function parseFieldValue(path: string, raw: FieldValue): FieldValue {
  const f = findField(path);
  if (!f) {
    throw new ConfigError(`unknown config path "${path}" (known: ${FIELDS.map((x) => x.path).join(', ')})`);
  }
  if (f.kind === 'enum') {
    const s = String(raw);
    if (!f.options.includes(s)) throw new ConfigError(`${path}: "${s}" is not one of ${f.options.join(', ')}`);
    return s;
  }
  if (f.kind === 'string') return String(raw);
  if (f.kind === 'bool') {
    const b = String(raw).trim().toLowerCase();
    if (b === 'true' || b === '1') return true;
    if (b === 'false' || b === '0') return false;
    throw new ConfigError(`${path}: "${raw}" is not true or false`);
  }
  const s = String(raw).trim();
  // Decimal numbers only (with an exponent): not hex, octal or binary, which Number() would take.
  if (typeof raw !== 'number' && !DECIMAL.test(s)) throw new ConfigError(`${path}: "${raw}" is not a number`);
  const n = typeof raw === 'number' ? raw : Number(s);
  if (!Number.isFinite(n)) throw new ConfigError(`${path}: "${raw}" is not a number`);
  if (f.kind === 'int' && !Number.isInteger(n)) throw new ConfigError(`${path}: ${raw} is not an integer`);
  if (n < f.min || n > f.max) throw new ConfigError(`${path}: ${n} is out of range [${f.min}, ${f.max}]`);
  return n;
}

/** A copy of cfg with dotted-path overrides applied and the result validated. */
export function applyOverrides(cfg: RunConfig, set: Record<string, FieldValue>): RunConfig {
  const out = structuredClone(cfg);
  for (const [path, raw] of Object.entries(set)) setPath(out, path, parseFieldValue(path, raw));
  return validateConfig(out);
}

/** Validate a whole config; the error names every bad field. Also checks cross-field rules. */
export function validateConfig(raw: unknown): RunConfig {
  // Configs from before the RL section: add it with the defaults (RL off).
  if (raw && typeof raw === 'object' && !Array.isArray(raw) && !('rl' in raw)) raw = { ...raw, rl: { ...RL_DEFAULTS } };
  const r = RunConfigSchema.safeParse(raw);
  if (!r.success) {
    const msgs = r.error.issues.map((i) => `${i.path.join('.') || '(config)'}: ${i.message}`);
    throw new ConfigError(`invalid config: ${msgs.join('; ')}`);
  }
  const errs = crossFieldProblems(r.data);
  if (errs.length) throw new ConfigError(`invalid config: ${errs.join('; ')}`);
  return r.data;
}

/** The rules that tie fields together (divisibility, RoPE parity, the RL corpus). */
function crossFieldProblems(c: RunConfig): string[] {
  const m = c.model;
  const errs: string[] = [];
  if (c.arch.attention === 'mla' && m.qk_rope_head_dim % 2 !== 0)
    errs.push(`model.qk_rope_head_dim: ${m.qk_rope_head_dim} must be even for RoPE`);
  if (c.arch.attention === 'mha') {
    if (m.hidden_size % m.num_attention_heads !== 0)
      errs.push(
        `model.num_attention_heads: ${m.num_attention_heads} does not divide model.hidden_size ${m.hidden_size}`,
      );
    else if ((m.hidden_size / m.num_attention_heads) % 2 !== 0)
      errs.push(`model.num_attention_heads: head dim ${m.hidden_size / m.num_attention_heads} must be even for RoPE`);
    if (m.num_attention_heads % m.num_key_value_heads !== 0)
      errs.push(
        `model.num_key_value_heads: ${m.num_key_value_heads} does not divide model.num_attention_heads ${m.num_attention_heads}`,
      );
  }
  if (c.arch.ffn === 'moe') {
    const E = m.n_routed_experts;
    if (E % m.n_group !== 0) errs.push(`model.n_group: ${m.n_group} does not divide model.n_routed_experts ${E}`);
    else if (E / m.n_group < 2)
      errs.push(`model.n_group: ${m.n_group} groups of ${E} experts leave fewer than 2 experts per group`);
    else if (m.topk_group > m.n_group)
      errs.push(`model.topk_group: ${m.topk_group} is more than model.n_group ${m.n_group}`);
    else if (m.topk_group * (E / m.n_group) < m.num_experts_per_tok)
      errs.push(
        `model.num_experts_per_tok: ${m.num_experts_per_tok} is more than the ${m.topk_group * (E / m.n_group)} experts in the kept groups (topk_group·n_routed_experts/n_group)`,
      );
    if (m.first_k_dense_replace > m.num_hidden_layers)
      errs.push(
        `model.first_k_dense_replace: ${m.first_k_dense_replace} is more than model.num_hidden_layers ${m.num_hidden_layers}`,
      );
  }
  if (m.num_nextn_predict_layers >= c.data.seq_len)
    errs.push(
      `model.num_nextn_predict_layers: ${m.num_nextn_predict_layers} must be less than data.seq_len ${c.data.seq_len}`,
    );
  if (![32, 64, 128].includes(c.precision.block))
    errs.push(`precision.block: ${c.precision.block} is not one of 32, 64, 128`);
  if (c.data.corpus === 'text' && c.data.text.length === 0)
    errs.push('data.text: empty (data.corpus "text" needs your text)');
  if (c.rl.mode === 'pipeline' && c.data.corpus !== 'task')
    errs.push(
      `data.corpus: "${c.data.corpus}" — an RL pipeline pretrains on its task's text, so data.corpus must be "task"`,
    );
  if (c.data.corpus === 'task' && c.rl.mode === 'off')
    errs.push(
      'data.corpus: "task" is the RL pipeline\'s pretraining text; set rl.mode to "pipeline" (or pick another corpus)',
    );
  return errs;
}
