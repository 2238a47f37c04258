// Differentiable segmented RMSNorm (Backend.rmsnormSegments): one or two norms in one kernel,
// each over the leading columns of its input, the other columns carried through. Re-exported by
// ops.ts. MLA uses it for q_a's norm and the latent's norm over [c_raw | kpe_raw] (kpe_raw is the
// carried part): one dispatch forward and one backward instead of two norms and a split (and two
// norm backwards and a concat).

import type { NormSegment } from './backend';
import { fail, needsGrad, requireF32 } from './op_base';
import { Tape } from './tape';
import { type Tensor, shapeStr } from './tensor';

/**
 * For each { x [..., S], w [D] } (D ≤ S; one or two, every x with the same rows): y = rmsnorm of
 * x's first D columns, and rest = x's other S − D columns (null when S = D). The values (and
 * gradients) of a split and an rmsnorm per item.
 */
export function rmsnormSegments(
  items: ReadonlyArray<{ x: Tensor; w: Tensor }>,
  eps: number,
): Array<{ y: Tensor; rest: Tensor | null }> {
  if (items.length < 1 || items.length > 2) fail('rmsnormSegments', `takes 1 or 2 segments, got ${items.length}`);
  const be = items[0].x.backend;
  const rows = (x: Tensor) => x.size / x.shape[x.shape.length - 1];
  const segs: NormSegment[] = items.map(({ x, w }) => {
    requireF32('rmsnormSegments', x, w);
    const S = x.shape[x.shape.length - 1];
    if (w.shape.length !== 1 || w.size < 1 || w.size > S)
      fail('rmsnormSegments', `weight ${shapeStr(w.shape)} does not fit the last dim ${S} of ${shapeStr(x.shape)}`);
    if (rows(x) !== rows(items[0].x))
      fail('rmsnormSegments', `inputs ${shapeStr(items[0].x.shape)} and ${shapeStr(x.shape)} differ in rows`);
    return { x: be.view(x, [rows(x), S]), w };
  });
  const r = be.rmsnormSegments(segs, eps);
  const lead = (x: Tensor, n: number) => [...x.shape.slice(0, -1), n];
  const out = items.map(({ x, w }, i) => {
    const rest = r.rest[i];
    return {
      y: be.view(r.y[i], lead(x, w.size)),
      rest: rest ? be.view(rest, lead(x, x.shape[x.shape.length - 1] - w.size)) : null,
    };
  });
  if (needsGrad(...items.flatMap(({ x, w }) => [x, w]))) {
    const outs = out.flatMap((o) => (o.rest ? [o.y, o.rest] : [o.y]));
    Tape.recordMulti(
      outs,
      items.flatMap(({ x, w }) => [x, w]),
      (dys) => {
        // The outputs' gradients in recording order: y, then rest where there is one, per item.
        let k = 0;
        const dy: Tensor[] = [];
        const dRest: Array<Tensor | null> = [];
        const zeros: Tensor[] = [];
        segs.forEach((s, i) => {
          let d = dys[k++];
          if (!d) {
            d = be.zeros([s.x.shape[0], s.w.size]);
            zeros.push(d);
          }
          dy.push(be.view(d, [s.x.shape[0], s.w.size]));
          const dr = out[i].rest ? dys[k++] : null;
          dRest.push(dr ? be.view(dr, [s.x.shape[0], s.x.shape[1] - s.w.size]) : null);
        });
        const g = be.rmsnormSegmentsBackward(segs, r.rstd, dy, dRest);
        for (const z of zeros) z.dispose();
        return items.flatMap(({ x }, i) => [be.view(g.dx[i], x.shape), g.dw[i]]);
      },
    );
  }
  return out;
}
