import { describe, expect, it } from 'vitest';
import { DIVERGING, SEQUENTIAL, attentionImage, buckets, expertLoadImage, ramp, showChar } from './heatmap';

const px = (rgba: Uint8ClampedArray, cell: number) => Array.from(rgba.subarray(cell * 4, cell * 4 + 4));

describe('heatmap images', () => {
  it('ramps hit their end stops and interpolate between them', () => {
    expect(ramp(SEQUENTIAL, 0)).toEqual(SEQUENTIAL[0]);
    expect(ramp(SEQUENTIAL, 1)).toEqual(SEQUENTIAL[4]);
    expect(ramp(DIVERGING, 0.5)).toEqual(DIVERGING[2]);
    expect(ramp(SEQUENTIAL, -3)).toEqual(SEQUENTIAL[0]);
    expect(ramp(SEQUENTIAL, 0.125)[0]).toBeCloseTo((SEQUENTIAL[0][0] + SEQUENTIAL[1][0]) / 2, 6);
  });

  it('attention: causal cells filled, the upper triangle empty, hover names query and key', () => {
    const probs = new Float32Array([1, 0, 0, 0.5, 0.5, 0, 0.2, 0.3, 0.5]);
    const img = attentionImage(['a', ' ', '\n'], probs);
    expect(img).toMatchObject({ rows: 3, cols: 3, rowLabels: ['a', '␣', '⏎'] });
    expect(px(img.rgba, 0)).toEqual([...SEQUENTIAL[4], 255]); // p = 1: darkest
    expect(px(img.rgba, 1)[3]).toBe(0); // j > i: empty
    expect(px(img.rgba, 5)[3]).toBe(0);
    expect(px(img.rgba, 7)[3]).toBe(255);
    expect(img.describe(2, 1)).toBe('query 2 “⏎” → key 1 “␣”: p = 0.300');
    expect(img.describe(0, 2)).toMatch(/causal mask/);
    expect(img.describe(3, 0)).toBeNull();
    expect(() => attentionImage(['a'], new Float32Array(2))).toThrow(/2 probabilities for 1 tokens/);
    expect(showChar('x')).toBe('x');
  });

  it('buckets cover every value exactly once, at most maxCols columns', () => {
    const b = buckets(10, 4);
    expect(Array.from(b)).toEqual([0, 2, 5, 7, 10]);
    expect(Array.from(buckets(3, 100))).toEqual([0, 1, 2, 3]);
    expect(buckets(0, 100).length).toBe(1);
  });

  it('expert load: colour by load ÷ mean (white at the mean), columns downsampled by mean ratio', () => {
    const steps = [2, 4, 6, 8];
    // Two experts; step 2 balanced, then expert 0 takes 3/4, then all, then balanced.
    const loads = [new Float64Array([5, 15, 20, 10]), new Float64Array([5, 5, 0, 10])];
    const img = expertLoadImage(steps, loads, 100);
    expect(img).toMatchObject({ rows: 2, cols: 4, rowLabels: ['0', '1'] });
    expect(px(img.rgba, 0)).toEqual([...DIVERGING[2], 255]); // balanced: white
    expect(px(img.rgba, 2)).toEqual([...DIVERGING[3], 255]); // 2× the mean: log2 = 1, halfway to saturation
    expect(img.describe(1, 2)).toBe('step 6, expert 1: 0 tokens, 0.00× the mean load');
    expect(px(img.rgba, 4 + 2)).toEqual([...DIVERGING[0], 255]); // no load: saturated blue
    expect(img.xTicks).toEqual([
      { col: 0, label: 'step 2' },
      { col: 3, label: '8' },
    ]);
    const small = expertLoadImage(steps, loads, 2);
    expect(small.cols).toBe(2);
    expect(small.describe(0, 0)).toBe('steps 2–4 (mean of 2 logged), expert 0: 1.25× the mean load');
    // A step without MoE data (NaN) is skipped.
    const gap = expertLoadImage([1, 2], [new Float64Array([NaN, 3]), new Float64Array([NaN, 1])], 10);
    expect(px(gap.rgba, 0)[3]).toBe(0);
    expect(gap.describe(0, 0)).toMatch(/no data/);
  });
});
