import { describe, expect, it } from 'vitest';
import { findPreset } from '../config';
import type { RunRecord } from '../lab/runfile';
import { OVERLAY_COLORS, overlayColors } from './run-colors';

const run = (id: number): RunRecord => ({
  id: `r${id}`,
  name: `run ${id}`,
  createdAt: id,
  preset: 'micro-dense',
  seed: id,
  config: findPreset('micro-dense')!.config,
  metrics: [],
  changes: [],
  samples: [],
  status: 'done',
  adapter: 'a',
  backend: 'webgpu',
});

describe('overlay colours', () => {
  it('give each overlaid run its own colour, kept when other runs are toggled', () => {
    const runs = Array.from({ length: 14 }, (_, i) => run(i));
    const a = overlayColors(runs, ['r1', 'r3']);
    expect([a.get('r1'), a.get('r3')]).toEqual([OVERLAY_COLORS[1], OVERLAY_COLORS[3]]);
    // Toggling another run on or off does not repaint these.
    const b = overlayColors(runs, ['r3', 'r5', 'r1']);
    expect([b.get('r1'), b.get('r3'), b.get('r5')]).toEqual([OVERLAY_COLORS[1], OVERLAY_COLORS[3], OVERLAY_COLORS[5]]);
    // r11 would share r1's place in the palette: it takes the next free colour instead.
    const c = overlayColors(runs, ['r1', 'r11']);
    expect(c.get('r11')).toBe(OVERLAY_COLORS[2]);
    // Distinct while the palette lasts.
    const all = overlayColors(
      runs,
      runs.slice(0, OVERLAY_COLORS.length).map((r) => r.id),
    );
    expect(new Set(all.values()).size).toBe(OVERLAY_COLORS.length);
    expect(overlayColors(runs, []).size).toBe(0);
  });
});
