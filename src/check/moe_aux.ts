// Check of the sequence-wise MoE balance loss: scores (grad) and routed idx (i32, no grad).
import type { OpCheck } from './types';

export const moeAuxChecks: OpCheck[] = [
  {
    name: 'moeAuxLoss',
    about: 'V3 sequence-wise balance loss Σ f_i·P_i per sequence, gradient through P',
    tolForward: 1e-5,
    tolBackward: 1e-5,
    makeCase(rng, index) {
      const regime = index % 3;
      const B = regime === 0 ? 1 : rng.int(1, 3);
      const T = regime === 0 ? rng.int(1, 3) : regime === 1 ? rng.int(5, 33) : rng.int(60, 130);
      const E = regime === 0 ? rng.int(2, 3) : regime === 1 ? rng.int(5, 9) : rng.int(16, 40);
      // K < E: with every expert chosen, f is uniform and the gradient is exactly 0 (a degenerate case).
      const K = rng.int(1, Math.min(3, E - 1));
      const scores = Float64Array.from({ length: B * T * E }, () => 0.05 + 0.9 * rng.next()); // sigmoid-like, > 0
      const idx = new Int32Array(B * T * K);
      for (let r = 0; r < B * T; r++) {
        const pool = [...Array(Math.min(E, K + 2)).keys()]; // a few experts only: some get no tokens
        for (let k = 0; k < K; k++) idx[r * K + k] = pool.splice(rng.int(0, pool.length - 1), 1)[0];
      }
      return {
        desc: `B=${B} T=${T} E=${E} K=${K}`,
        inputs: [
          { name: 'scores', shape: [B, T, E], dtype: 'f32', data: scores, grad: true },
          { name: 'idx', shape: [B, T, K], dtype: 'i32', data: idx, grad: false },
        ],
        nDiff: 1,
        forward: (be, [s, i]) => [be.moeAuxLoss(s, i)],
        backward: (be, [s, i], [dy]) => [be.moeAuxLossBackward(s, i, dy), null],
      };
    },
  },
];
