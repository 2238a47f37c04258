// Teaching notes: the MTP module's layers are named as such, and the speculative note says why
// it is slower at this size.

import { describe, expect, it } from 'vitest';
import { layerName, speculativeNote } from './teaching';

describe('teaching notes', () => {
  it("names the MTP module's layers after the main model's", () => {
    // micro-v3: 2 main layers (0 dense, 1 MoE) and one MTP module, numbered 2.
    expect(layerName(1, 2)).toBe('layer 1');
    expect(layerName(2, 2)).toBe('MTP module 1 (layer 2)');
    expect(layerName(7, 6)).toBe('MTP module 2 (layer 7)');
    expect(layerName(5, Infinity)).toBe('layer 5');
  });

  it('says why speculative decoding is slower at this size and what changes at scale', () => {
    const note = speculativeNote(0.63, 2, 1);
    expect(note).toMatch(/^Slower here \(0\.63×\)/);
    expect(note).toContain('1 block plus the shared output head, beside 2 main blocks');
    expect(note).toContain('61 blocks');
    expect(speculativeNote(1.2, 6, 1)).not.toContain('Slower');
  });
});
