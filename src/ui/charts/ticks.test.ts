import { describe, expect, it } from 'vitest';
import { lastValue } from './plot-format';
import { axisWidth, decimalsFor, flatRange, STEP_INCRS, tickLabels } from './ticks';

describe('axis tick labels', () => {
  it('take their precision from the tick spacing, so small ticks never repeat', () => {
    expect(tickLabels([0, 0.0005, 0.001, 0.0015, 0.002], 0.0005)).toEqual([
      '0.0000',
      '0.0005',
      '0.0010',
      '0.0015',
      '0.0020',
    ]);
    expect(tickLabels([0.001, 0.002, 0.003], 0.001)).toEqual(['0.001', '0.002', '0.003']);
    expect(tickLabels([1.5, 1.75, 2], 0.25)).toEqual(['1.50', '1.75', '2.00']);
    expect(tickLabels([0, 5000, 10000, 15000], 5000)).toEqual(['0', '5,000', '10,000', '15,000']);
    expect(tickLabels([-0.2, 0, 0.2], 0.2)).toEqual(['-0.2', '0.0', '0.2']);
  });

  it('labels are distinct for any spacing uPlot picks', () => {
    for (const mant of [1, 2, 2.5, 5]) {
      for (let e = -8; e <= 8; e++) {
        const incr = mant * 10 ** e;
        const splits = [3, 4, 5, 6, 7].map((k) => k * incr);
        const labels = tickLabels(splits, incr);
        expect(new Set(labels).size, `${incr}: ${labels.join(', ')}`).toBe(labels.length);
      }
    }
  });

  it('uses exponent notation for tiny or huge ticks, and 4 significant digits on log axes', () => {
    expect(tickLabels([1e-5, 2e-5, 3e-5], 1e-5)).toEqual(['1e-5', '2e-5', '3e-5']);
    expect(tickLabels([2.5e-6, 5e-6, 7.5e-6], 2.5e-6)).toEqual(['2.5e-6', '5.0e-6', '7.5e-6']);
    expect(tickLabels([1e7, 2e7], 1e7)).toEqual(['1e+7', '2e+7']);
    expect(tickLabels([0.1, 1, 10], 0, true)).toEqual(['0.1', '1', '10']);
    expect(tickLabels([null, 1], 1)).toEqual(['', '1']);
  });

  it('decimalsFor tolerates float noise', () => {
    expect(decimalsFor(0.00025)).toBe(5);
    expect(decimalsFor(0.1 + 0.2)).toBe(1);
    expect(decimalsFor(3)).toBe(0);
  });

  it('the idle legend shows the latest real value', () => {
    expect(lastValue([1, 2, null, NaN])).toBe(2);
    expect(lastValue([null])).toBeNull();
    expect(lastValue(undefined)).toBeNull();
  });
});

describe('step axis', () => {
  it('ticks only at whole steps, in 1-2-2.5-5 spacings from 1 up', () => {
    expect(STEP_INCRS.slice(0, 8)).toEqual([1, 2, 5, 10, 20, 25, 50, 100]);
    expect(STEP_INCRS.every((x) => Number.isInteger(x))).toBe(true);
    expect(STEP_INCRS.every((x, i) => i === 0 || x > STEP_INCRS[i - 1])).toBe(true);
    expect(tickLabels([1, 2, 3, 4], 1)).toEqual(['1', '2', '3', '4']);
  });
});

describe('y axis', () => {
  it('gives a flat series a range around its value, not 0–100', () => {
    expect(flatRange(0, 0)).toEqual([0, 1]);
    expect(flatRange(2, 2)).toEqual([1.8, 2.2]);
    expect(flatRange(-5, -5)).toEqual([-5.5, -4.5]);
    expect(flatRange(0, 1)).toBeNull();
    expect(flatRange(NaN, NaN)).toBeNull();
  });

  it('is as wide as its longest label needs, within bounds', () => {
    expect(axisWidth(['0', '1'])).toBe(40);
    expect(axisWidth(['0.00000', '0.00010'])).toBe(67);
    expect(axisWidth(['1.2345678901234567e-10'])).toBe(96);
    expect(axisWidth(null)).toBe(40);
  });
});
