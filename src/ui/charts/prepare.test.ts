import { describe, expect, it } from 'vitest';
import type { ChartSeries } from './MetricChart';
import { plotLines, prepareChartData, resolveCssColor, structureKey } from './prepare';

const steps = (n: number, from = 0) => Array.from({ length: n }, (_, i) => from + i);

describe('plotLines / structureKey', () => {
  const s: ChartSeries[] = [
    { label: 'train', x: [], y: [], color: 'red' },
    { label: 'val', x: [], y: [], color: 'blue', points: true, dashed: true },
  ];

  it('draws raw lines under smoothed ones when smoothing', () => {
    expect(plotLines(s, 0).map((l) => l.role)).toEqual(['line', 'line']);
    expect(plotLines(s, 0.6).map((l) => `${l.role}:${l.label}`)).toEqual([
      'raw:train',
      'raw:val',
      'smooth:train',
      'smooth:val',
    ]);
  });

  it('changes only with the structure, not with data or the smoothing amount', () => {
    const more = s.map((x) => ({ ...x, x: [1, 2], y: [3, 4] }));
    expect(structureKey(more, 0.3, false)).toBe(structureKey(s, 0.9, false));
    expect(structureKey(s, 0, false)).not.toBe(structureKey(s, 0.5, false));
    expect(structureKey(s, 0, false)).not.toBe(structureKey(s, 0, true));
    expect(structureKey(s, 0, false)).not.toBe(structureKey(s.slice(0, 1), 0, false));
  });
});

describe('prepareChartData', () => {
  it('overlays runs logged at different steps', () => {
    const a: ChartSeries = { label: 'a', x: [0, 10, 20], y: [3, 2, 1], color: 'red' };
    const b: ChartSeries = { label: 'b', x: [5, 10], y: [4, null], color: 'blue' };
    const { data, xRange } = prepareChartData([a, b], { smoothing: 0, logY: false, buckets: 100 });
    expect(data).toEqual([
      [0, 5, 10, 20],
      [3, null, 2, 1],
      [null, 4, null, null],
    ]);
    expect(xRange).toEqual([0, 20]);
  });

  it('downsamples long series to the bucket count', () => {
    const n = 100_000;
    const s: ChartSeries[] = [0, 1, 2].map((k) => ({
      label: `run ${k}`,
      x: steps(n),
      y: steps(n).map((i) => Math.exp(-i / n) + Math.sin(i * (k + 1)) * 0.1),
      color: 'red',
    }));
    const { data } = prepareChartData(s, { smoothing: 0, logY: false, buckets: 500 });
    expect(data.length).toBe(4);
    expect(data[0].length).toBeLessThanOrEqual(3 * 1002);
    expect(data[0][0]).toBe(0);
    expect(data[0][data[0].length - 1]).toBe(n - 1);
  });

  it('adds smoothed columns after the raw ones', () => {
    const s: ChartSeries = { label: 'l', x: [0, 1, 2], y: [1, 3, null], color: 'red' };
    const { data } = prepareChartData([s], { smoothing: 0.5, logY: false, buckets: 100 });
    expect(data[0]).toEqual([0, 1]);
    expect(data[1]).toEqual([1, 3]);
    expect(data[2][0]).toBe(1);
    expect(data[2][1]).toBeCloseTo(3.5 / 1.5, 12);
  });

  it('masks non-positive values on a log axis', () => {
    const s: ChartSeries = { label: 'l', x: [0, 1, 2, 3], y: [1, 0, -2, 0.5], color: 'red' };
    const { data } = prepareChartData([s], { smoothing: 0, logY: true, buckets: 100 });
    expect(data).toEqual([
      [0, 3],
      [1, 0.5],
    ]);
  });

  it('handles no data', () => {
    const { data, xRange } = prepareChartData([{ label: 'l', x: [], y: [], color: 'red' }], {
      smoothing: 0.9,
      logY: true,
      buckets: 10,
    });
    expect(data).toEqual([[], [], []]);
    expect(xRange).toBeNull();
  });
});

describe('resolveCssColor', () => {
  const vars: Record<string, string> = { '--train': ' #1f6feb', '--empty': '' };
  const lookup = (name: string) => vars[name] ?? '';
  it('resolves custom properties with fallbacks', () => {
    expect(resolveCssColor('#abc', lookup)).toBe('#abc');
    expect(resolveCssColor('var(--train)', lookup)).toBe('#1f6feb');
    expect(resolveCssColor('var(--empty, rgba(1, 2, 3, 0.5))', lookup)).toBe('rgba(1, 2, 3, 0.5)');
    expect(resolveCssColor('var(--nope, var(--train))', lookup)).toBe('#1f6feb');
    expect(resolveCssColor('var(--nope)', lookup)).toBe('#888888');
  });
});
