// Leave the browser cleanly: the lab's models as Hugging Face DeepSeek-V3 directories (export),
// the same format read back with validation (import), and a TorchTitan handoff. See
// docs/export.md for how to use the files elsewhere.

export { ExportError, ImportError } from './errors';
export {
  exportModel,
  exportTensors,
  V3LAB_FORMAT,
  V3LAB_VERSION,
  type ExportOptions,
  type V3labManifest,
} from './export';
export {
  importConfig,
  importModel,
  modelBytesLimit,
  MAX_CONFIG_BYTES,
  MAX_MANIFEST_BYTES,
  MAX_TOKENIZER_BYTES,
  type ImportedModel,
} from './import';
export {
  checkExportable,
  EXPORT_DTYPES,
  hfConfigOf,
  hfTensors,
  isFp8Weight,
  type ExportDtype,
  type HfTensor,
} from './hf';
export { compatNotes, type CompatNote } from './notes';
export { runTokenizer, type Vocabulary } from './tokenizer';
