// Types that cross layers: a run's host checkpoint (train/ writes it, lab/ and the page keep it)
// and the options of a sample (the trainer decodes, the lab validates).

import type { RunConfig } from './schema';

/** A host-side copy of everything needed to continue a run exactly. */
export interface Checkpoint {
  format: 'v3lab-checkpoint';
  version: 1;
  preset: string;
  seed: number;
  step: number;
  config: RunConfig;
  /** HF-named parameters, f32 data. */
  params: Record<string, { shape: number[]; data: Float32Array }>;
  /** AdamW moments per parameter (absent in weights-only files). */
  optimizer?: { step: number; m: Record<string, Float32Array>; v: Record<string, Float32Array> };
  /** Training batch sampler state, so batches continue where they were. */
  samplerState?: number[];
}

export interface SampleOptions {
  /** Text to continue; characters outside the vocabulary are an error naming them. Empty = start from a newline (or the first vocab entry). */
  prompt: string;
  /** Characters to generate (1..2000). */
  length: number;
  /** Softmax temperature; 0 = greedy. */
  temperature: number;
  /** Keep the k most likely characters (0 = off, the default). */
  topK?: number;
  /** Nucleus sampling: keep the smallest set of characters holding this much probability (1 = off, the default). */
  topP?: number;
  seed: number;
  /** Speculative decoding with the MTP module as drafter (the model needs num_nextn_predict_layers ≥ 1). */
  speculative?: boolean;
}
