// A heatmap on a canvas: a cell image (heatmap.ts) scaled to the plot area without smoothing,
// row labels on the left, optional column labels on top and tick labels below, and a hover
// readout under the canvas. The image is built by the `build` callback inside an animation
// frame, at most once per frame however often `stamp` changes, with the plot width in CSS
// pixels (so a long run is downsampled to about one column per pixel). The canvas follows its
// container's width.

import { useCallback, useEffect, useRef, useState, type JSX, type MouseEvent } from 'react';
import type { HeatImage } from './heatmap';

interface Props {
  /** Builds the cell image for a plot `maxCols` CSS pixels wide; null when there is nothing to draw. */
  build: (maxCols: number) => HeatImage | null;
  /** Any value that changes when the data changes (schedules a redraw). */
  stamp: unknown;
  /** Plot height in CSS pixels; 'square' makes the plot as tall as it is wide. */
  height: number | 'square';
  /** Largest plot edge in CSS pixels (square plots). */
  maxSize?: number;
  label: string;
  testId?: string;
  /** Shown while build returns null. */
  empty?: string;
}

interface Geometry {
  left: number;
  top: number;
  w: number;
  h: number;
  img: HeatImage;
}

const FONT = '11px system-ui, sans-serif';
const MONO = '11px ui-monospace, SFMono-Regular, Menlo, monospace';

/** Draw every k-th label so labels are at least `minGap` CSS pixels apart. */
const every = (cell: number, minGap: number) => Math.max(1, Math.ceil(minGap / Math.max(cell, 1e-6)));

export function HeatmapCanvas({
  build,
  stamp,
  height,
  maxSize = 720,
  label,
  testId,
  empty = 'No data yet',
}: Props): JSX.Element {
  const wrap = useRef<HTMLDivElement>(null);
  const canvas = useRef<HTMLCanvasElement>(null);
  const geometry = useRef<Geometry | null>(null);
  /** One pixel per cell, scaled onto the visible canvas. */
  const cellCanvas = useRef<HTMLCanvasElement | null>(null);
  const latest = useRef(build);
  latest.current = build;
  const frame = useRef(0);
  const [hover, setHover] = useState<string | null>(null);
  const [drawn, setDrawn] = useState(false);

  const draw = useCallback(() => {
    frame.current = 0;
    const el = wrap.current;
    const cv = canvas.current;
    const ctx = cv?.getContext('2d');
    if (!el || !cv || !ctx) return;
    const cssW = Math.max(120, Math.floor(el.clientWidth));
    ctx.font = FONT;
    // The image is built for the plot width; margins depend on its labels, so guess 40 px first.
    const img = latest.current(Math.max(16, cssW - 44));
    if (!img || img.cols === 0 || img.rows === 0) {
      geometry.current = null;
      cv.width = 0;
      cv.height = 0;
      el.dataset.cols = '0';
      setDrawn(false);
      return;
    }
    cellCanvas.current ??= document.createElement('canvas');
    geometry.current = paint(ctx, cv, cellCanvas.current, img, {
      cssW,
      height,
      maxSize,
      fg: getComputedStyle(el).color,
    });
    el.dataset.cols = String(img.cols);
    el.dataset.rows = String(img.rows);
    setDrawn(true);
  }, [height, maxSize]);

  const schedule = useCallback(() => {
    if (!frame.current) frame.current = requestAnimationFrame(draw);
  }, [draw]);

  useEffect(schedule, [stamp, schedule]);

  useEffect(() => {
    const el = wrap.current;
    if (!el) return;
    let lastW = -1;
    const ro = new ResizeObserver((entries) => {
      const w = Math.floor(entries[0]?.contentRect.width ?? 0);
      if (w > 0 && w !== lastW) {
        lastW = w;
        schedule();
      }
    });
    ro.observe(el);
    return () => {
      ro.disconnect();
      cancelAnimationFrame(frame.current);
      frame.current = 0;
    };
  }, [schedule]);

  const onMove = (e: MouseEvent<HTMLCanvasElement>) => {
    const g = geometry.current;
    if (!g) return;
    const rect = e.currentTarget.getBoundingClientRect();
    const x = e.clientX - rect.left - g.left;
    const y = e.clientY - rect.top - g.top;
    if (x < 0 || y < 0 || x >= g.w || y >= g.h) {
      setHover(null);
      return;
    }
    setHover(g.img.describe(Math.floor((y / g.h) * g.img.rows), Math.floor((x / g.w) * g.img.cols)));
  };

  return (
    <div className="heatmap" ref={wrap} data-testid={testId} data-cols="0">
      <canvas ref={canvas} role="img" aria-label={label} onMouseMove={onMove} onMouseLeave={() => setHover(null)} />
      {!drawn && <div className="heatmap-empty muted small">{empty}</div>}
      <div className="heatmap-readout small" data-testid={testId ? `${testId}-readout` : undefined}>
        {hover ?? '\u00a0'}
      </div>
    </div>
  );
}

/** Size the canvas for the image and its labels, and draw both; returns where the cells went. */
function paint(
  ctx: CanvasRenderingContext2D,
  cv: HTMLCanvasElement,
  cells: HTMLCanvasElement,
  img: HeatImage,
  o: { cssW: number; height: number | 'square'; maxSize: number; fg: string },
): Geometry {
  ctx.font = img.colLabels ? MONO : FONT;
  let labelW = 0;
  for (let r = 0; r < img.rows; r++) labelW = Math.max(labelW, ctx.measureText(img.rowLabels[r] ?? '').width);
  const left = Math.ceil(Math.min(60, labelW) + 6);
  const top = img.colLabels ? 14 : 2;
  const bottom = img.xTicks?.length ? 16 : 2;
  let w = Math.max(16, o.cssW - left - 4);
  let h: number;
  if (o.height === 'square') {
    w = Math.min(w, o.maxSize);
    h = w;
  } else h = o.height;
  const cssH = top + h + bottom;
  const dpr = window.devicePixelRatio || 1;
  cv.width = Math.round(o.cssW * dpr);
  cv.height = Math.round(cssH * dpr);
  cv.style.width = `${o.cssW}px`;
  cv.style.height = `${cssH}px`;
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, o.cssW, cssH);

  // Cells: the image at one pixel per cell, scaled up without smoothing.
  cells.width = img.cols;
  cells.height = img.rows;
  cells
    .getContext('2d')!
    .putImageData(new ImageData(img.rgba as Uint8ClampedArray<ArrayBuffer>, img.cols, img.rows), 0, 0);
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(cells, left, top, w, h);
  ctx.strokeStyle = o.fg;
  ctx.globalAlpha = 0.25;
  ctx.strokeRect(left - 0.5, top - 0.5, w + 1, h + 1);
  ctx.globalAlpha = 1;
  const g = { left, top, w, h, img };
  drawLabels(ctx, g, o.fg);
  return g;
}

/** Row labels, column labels and x ticks, thinned so they do not overlap. */
function drawLabels(ctx: CanvasRenderingContext2D, { left, top, w, h, img }: Geometry, fg: string): void {
  ctx.fillStyle = fg;
  ctx.font = img.colLabels ? MONO : FONT;
  const rowH = h / img.rows;
  const colW = w / img.cols;
  ctx.textAlign = 'right';
  ctx.textBaseline = 'middle';
  const rk = every(rowH, 12);
  for (let r = 0; r < img.rows; r += rk) ctx.fillText(img.rowLabels[r] ?? '', left - 4, top + (r + 0.5) * rowH);
  if (img.colLabels) {
    ctx.textAlign = 'center';
    ctx.textBaseline = 'bottom';
    const ck = every(colW, 9);
    for (let c = 0; c < img.cols; c += ck) ctx.fillText(img.colLabels[c] ?? '', left + (c + 0.5) * colW, top - 2);
  }
  if (img.xTicks?.length) {
    ctx.font = FONT;
    ctx.textBaseline = 'top';
    for (const t of img.xTicks) {
      ctx.textAlign = t.col === 0 ? 'left' : t.col >= img.cols - 1 ? 'right' : 'center';
      const x = t.col === 0 ? left : t.col >= img.cols - 1 ? left + w : left + (t.col + 0.5) * colW;
      ctx.fillText(t.label, x, top + h + 3);
    }
  }
}
