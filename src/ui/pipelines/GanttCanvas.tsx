// One schedule's Gantt chart on a canvas that follows its container's width, with a hover
// readout naming the op under the pointer.

import { useEffect, useRef, useState, type JSX, type MouseEvent } from 'react';
import type { Timeline } from '../../sim/types';
import { describeSegment, drawGantt, ganttGeometry, segmentAt, type Palette } from './gantt';

function palette(el: Element): Palette {
  const css = getComputedStyle(el);
  const v = (name: string, fallback: string) => css.getPropertyValue(name).trim() || fallback;
  return {
    F: [v('--pp-f', '#3b7ddd'), v('--pp-f2', '#a9c8f5')],
    B: [v('--pp-b', '#2e9a5a'), v('--pp-b2', '#9fd8b5')],
    W: [v('--pp-w', '#8a5cd6'), v('--pp-w2', '#cdb6f2')],
    send: v('--pp-send', '#9aa3ad'),
    bubble: v('--pp-bubble', '#f6d3d3'),
    edge: v('--pp-edge', '#111111'),
    sep: v('--card', '#ffffff'),
    fg: v('--fg', '#1b1f24'),
    onLight: v('--pp-on-light', '#1b1f24'),
    muted: v('--muted', '#5c6570'),
    grid: v('--border', '#d9dee4'),
  };
}

export function GanttCanvas({
  timeline,
  maxTime,
  testId,
  label,
}: {
  timeline: Timeline;
  maxTime: number;
  testId: string;
  label: string;
}): JSX.Element {
  const wrap = useRef<HTMLDivElement>(null);
  const canvas = useRef<HTMLCanvasElement>(null);
  const [width, setWidth] = useState(0);
  const [hover, setHover] = useState<string | null>(null);
  const [drawn, setDrawn] = useState(0);

  useEffect(() => {
    const el = wrap.current;
    if (!el) return;
    setWidth(el.clientWidth);
    const ro = new ResizeObserver(() => setWidth(el.clientWidth));
    ro.observe(el);
    return () => ro.disconnect();
  }, []);

  const geometry = width > 0 ? ganttGeometry(timeline.plan.pp, width, maxTime) : null;

  useEffect(() => {
    const c = canvas.current;
    if (!c || !geometry) return;
    const dpr = window.devicePixelRatio || 1;
    c.width = Math.round(geometry.width * dpr);
    c.height = Math.round(geometry.height * dpr);
    c.style.width = `${geometry.width}px`;
    c.style.height = `${geometry.height}px`;
    const ctx = c.getContext('2d');
    if (!ctx) return;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    drawGantt(ctx, timeline, geometry, palette(c));
    setDrawn((n) => n + 1);
    // geometry is derived from these three.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [timeline, maxTime, width]);

  const onMove = (e: MouseEvent<HTMLCanvasElement>) => {
    if (!geometry) return;
    const r = e.currentTarget.getBoundingClientRect();
    const s = segmentAt(timeline, geometry, e.clientX - r.left, e.clientY - r.top);
    setHover(s ? describeSegment(s) : null);
  };

  return (
    <div
      className="gantt"
      ref={wrap}
      data-testid={testId}
      data-ranks={timeline.plan.pp}
      data-segments={timeline.segments.length}
      data-total={timeline.total}
      data-drawn={drawn}
    >
      <canvas ref={canvas} role="img" aria-label={label} onMouseMove={onMove} onMouseLeave={() => setHover(null)} />
      <div className="gantt-hover small muted">{hover ?? '\u00a0'}</div>
    </div>
  );
}
