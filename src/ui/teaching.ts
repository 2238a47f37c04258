// Teaching notes where a number surprises a student: which layers belong to the MTP module, why
// the MTP loss can sit below the main loss, and why speculative decoding is slower at this size.

/**
 * A decoder layer's name: layers at or past the main model's `num_hidden_layers` are the MTP
 * modules' blocks (Hugging Face numbers them on after the main layers), e.g. "MTP module 1 (layer 2)".
 */
export function layerName(layer: number, mainLayers: number): string {
  return layer >= mainLayers ? `MTP module ${layer - mainLayers + 1} (layer ${layer})` : `layer ${layer}`;
}

export const MTP_LOSS_NOTE =
  'Why the MTP loss can be lower than the main loss: MTP module 1 predicts token t+2 from the main ' +
  "model's last hidden state at t together with the embedding of the true token t+1. Being handed the " +
  'next token makes its job a next-token prediction with one more block on top of the whole model, ' +
  'which on a small character corpus can beat the main head. The chart shows it unweighted; training ' +
  'adds it times λ/D (model.mtp_lambda).';

/** Why speculative decoding is slower here than V3's ≈1.8×, given the measured speedup. */
export function speculativeNote(speedup: number, mainLayers: number, mtpLayers: number): string {
  const why =
    `At this size a draft is not cheap: the MTP module is ${mtpLayers} block${mtpLayers > 1 ? 's' : ''} plus the shared ` +
    `output head, beside ${mainLayers} main block${mainLayers > 1 ? 's' : ''} plus the same head, so drafting costs ` +
    'a large share of a forward, and checking two tokens costs about what one forward does. ';
  const scale =
    'At V3 scale the main model is 61 blocks and the MTP module one, so a draft costs about 2% of a forward and ' +
    '85–90% acceptance gives ≈1.8×; with a larger main model here the ratio moves that way.';
  return speedup < 1 ? `Slower here (${speedup.toFixed(2)}×). ${why}${scale}` : `${why}${scale}`;
}
