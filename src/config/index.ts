// The bottom of the stack: the run config (schema, fields, paths, validation), the presets and
// the types every layer shares. Imports nothing from src/ but itself.

export { ConfigError } from './errors';
export type { ConfigPanel, FieldKind, FieldSpec } from './fields';
export { type FieldValue, getPath, setPath, withPath } from './paths';
export { findPreset, PRESETS, type Preset } from './presets';
export {
  type ArchSection,
  FIELDS,
  type FieldPath,
  fieldGroups,
  findField,
  MAX_TEXT_CHARS,
  type ModelSection,
  type PrecisionSection,
  panelFields,
  RL_DEFAULTS,
  type RlSection,
  type RlTaskName,
  type RunConfig,
  RunConfigSchema,
  type SectionName,
  TASK_NAMES,
} from './schema';
export type { Checkpoint, SampleOptions } from './types';
export { applyOverrides, canonicalConfig, DECIMAL, parseFieldValue, validateConfig } from './validate';
