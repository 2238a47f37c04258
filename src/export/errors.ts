// The two ways leaving (or re-entering) the lab can fail. Both carry a one-line message that
// names the file, the field or the tensor at fault, so the CLI and the page can show it as is.

import { quoteName } from '../train/safetensors';

export { quoteName };

/** The model cannot be written in the Hugging Face DeepSeek-V3 format (e.g. MHA attention). */
export class ExportError extends Error {
  override name = 'ExportError';
}

/** An export directory (or zip) is not a valid DeepSeek-V3 model v3lab can load. */
export class ImportError extends Error {
  override name = 'ImportError';
}

/** "a", "b", "c" and 4 more: keeps messages short when a whole model mismatches. */
export function listNames(names: readonly string[], max = 8): string {
  const shown = names.slice(0, max).map(quoteName).join(', ');
  return names.length > max ? `${shown} and ${names.length - max} more` : shown;
}
