// The export's view of the one safetensors codec (train/safetensors.ts): the same writer and
// element codecs, and a reader whose every problem is an ImportError naming it.

import { readSafetensors as read, SafetensorsError, type RawTensor } from '../train/safetensors';
import { ImportError } from './errors';

export {
  DEFAULT_MAX_HEADER_BYTES,
  DTYPE_BYTES,
  bf16Bits,
  bf16Bytes,
  byName,
  crc32,
  crc32Hex,
  f32Bytes,
  fmtShape,
  numel,
  toFloat32,
  writeSafetensors,
} from '../train/safetensors';
export type { RawTensor, StDtype } from '../train/safetensors';

/** Parse and check a safetensors file (byte views, no copies); problems are ImportErrors. */
export function readSafetensors(
  bytes: Uint8Array,
  opts: { maxHeaderBytes?: number } = {},
): { tensors: Map<string, RawTensor>; metadata: Record<string, string> } {
  try {
    return read(bytes, opts);
  } catch (e) {
    throw e instanceof SafetensorsError ? new ImportError(e.message) : e;
  }
}
