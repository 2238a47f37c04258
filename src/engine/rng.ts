// Seeded PRNG (mulberry32 state step + Box–Muller normals). Every random choice in v3lab —
// init, data, sampling, check shapes — draws from one of these, so a seed fixes a run.

export class Rng {
  private state: number;
  private spare: number | null = null;

  constructor(seed: number) {
    // Mix the seed so nearby seeds give unrelated streams.
    let s = (Math.floor(seed) ^ 0x9e3779b9) >>> 0;
    s = Math.imul(s ^ (s >>> 16), 0x85ebca6b) >>> 0;
    s = Math.imul(s ^ (s >>> 13), 0xc2b2ae35) >>> 0;
    this.state = (s ^ (s >>> 16)) >>> 0;
  }

  /** The generator's full state (to checkpoint a run). */
  getState(): number[] {
    return this.spare === null ? [this.state] : [this.state, this.spare];
  }

  setState(st: readonly number[]): void {
    if (!st.length || !Number.isInteger(st[0]) || st[0] < 0 || st[0] > 0xffffffff)
      throw new Error('rng: invalid state');
    this.state = st[0] >>> 0;
    this.spare = st.length > 1 && Number.isFinite(st[1]) ? st[1] : null;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Integer in [lo, hi] inclusive. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }

  /** Standard normal. */
  normal(): number {
    if (this.spare !== null) {
      const s = this.spare;
      this.spare = null;
      return s;
    }
    let u = 0;
    while (u === 0) u = this.next();
    const v = this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.next() * xs.length)];
  }

  /** A fresh generator derived from this one (for independent streams). */
  fork(): Rng {
    return new Rng(Math.floor(this.next() * 4294967296));
  }

  normalArray(n: number, std = 1): Float64Array {
    const a = new Float64Array(n);
    for (let i = 0; i < n; i++) a[i] = this.normal() * std;
    return a;
  }
}
