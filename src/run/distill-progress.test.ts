// The distillation experiment's progress counts steps once they have finished on the device, not
// when they were submitted (a GPU can run many steps behind the host).
import { describe, expect, it } from 'vitest';
import type { Tensor } from '../engine/tensor';
import type { StepHandles } from '../train/stage';
import { runTo, type Steppable } from './distill';

/** A pipeline whose steps "finish on the device" only when the test says so. */
function fakePipeline() {
  const finished: number[] = [];
  const waiting: Array<() => void> = [];
  let disposed = 0;
  const tensor = (step: number) => ({ step, dispose: () => void disposed++ }) as unknown as Tensor;
  const t = {
    step: 0,
    async runStep(): Promise<StepHandles> {
      t.step++;
      return { loss: tensor(t.step), aux: null, mtp: null, normSq: tensor(t.step), offsets: [], lr: 0 };
    },
    be: {
      read: (x: Tensor) =>
        new Promise((resolve) => {
          waiting.push(() => {
            finished.push((x as unknown as { step: number }).step);
            resolve(new Float64Array(1));
          });
        }),
      flush: async () => {},
    },
  };
  return { t: t as unknown as Steppable & { step: number }, finished, waiting, disposed: () => disposed };
}

const settle = () => new Promise((r) => setTimeout(r, 0));

describe('distill progress', () => {
  it('reports a step only after the device has finished it, every 10 steps and at the end', async () => {
    const f = fakePipeline();
    const seen: number[] = [];
    const done = runTo(f.t, 25, (s) => seen.push(s));
    await settle();
    expect(f.t.step).toBe(10); // submitted 10 steps; the 10th is not finished yet
    expect(seen).toEqual([]);
    f.waiting.shift()!();
    await settle();
    expect(seen).toEqual([10]);
    f.waiting.shift()!();
    await settle();
    f.waiting.shift()!(); // step 25, the last
    await done;
    expect(seen).toEqual([10, 20, 25]);
    expect(f.finished).toEqual([10, 20, 25]);
    expect(f.disposed()).toBe(50); // every step's handles released (loss and norm)
  });
});
