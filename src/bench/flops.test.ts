import { describe, expect, it } from 'vitest';
import { findPreset } from '../config';
import { forwardFlopsPerToken, modelConfigOf } from '../model/config';
import {
  attentionBytes,
  attentionFlops,
  blockGemmBytes,
  causalPairs,
  ffnFlops,
  matmulBytes,
  matmulFlops,
  moeFlops,
  trainStepFlops,
} from './flops';

describe('bench FLOP and byte counts', () => {
  it('matmul: 2·M·N·K and one pass over A, B, C', () => {
    expect(matmulFlops(1024, 1024, 1024)).toBe(2 * 1024 ** 3);
    expect(matmulFlops(16, 2048, 2048)).toBe(2 * 16 * 2048 * 2048);
    expect(matmulFlops(3, 5, 7, 2)).toBe(2 * 3 * 5 * 7 * 2);
    expect(matmulBytes(2, 3, 4)).toBe(4 * (2 * 4 + 4 * 3 + 2 * 3));
  });

  it('block-scaled GEMM: 1 byte per code, f32 scales per A tile and per B block, f32 output', () => {
    // 256³ with blocks of 128: A 256×2 scales, B 2×2 scales.
    expect(blockGemmBytes(256, 256, 256, 128)).toBe(256 * 256 * 2 + 4 * (256 * 2 + 2 * 2) + 4 * 256 * 256);
  });

  it('causal attention counts visible pairs; the backward is twice the forward', () => {
    expect(causalPairs(1)).toBe(1);
    expect(causalPairs(4)).toBe(10);
    const a = { batch: 2, seq: 4, heads: 3, kvHeads: 3, dQK: 8, dV: 4 };
    expect(attentionFlops(a, 'fwd')).toBe(2 * 2 * 3 * 10 * (8 + 4));
    expect(attentionFlops(a, 'fwdbwd')).toBe(3 * attentionFlops(a, 'fwd'));
    expect(attentionBytes(a, 'fwdbwd')).toBeGreaterThan(2 * attentionBytes(a, 'fwd'));
  });

  it('an MoE layer does the work of a dense FFN of width (K + shared)·I, plus the router', () => {
    const m = { tokens: 100, d: 32, experts: 8, topK: 2, shared: 1, I: 16 };
    const router = matmulFlops(100, 8, 32);
    expect(moeFlops(m, 'fwd')).toBe(ffnFlops(100, 32, 48, 'fwd') + router);
    expect(moeFlops(m, 'fwdbwd')).toBe(3 * moeFlops(m, 'fwd'));
  });

  it('a training step is 3 × the forward FLOPs of its tokens', () => {
    const cfg = findPreset('micro-dense')!.config;
    const c = modelConfigOf(cfg, 27);
    const { batch_size: B, seq_len: T } = cfg.data;
    expect(trainStepFlops(c, B, T)).toBe(3 * forwardFlopsPerToken(c, T) * B * T);
    // Sanity: micro-dense is ~0.2 MFLOP per token forward (d=64, 2 layers, V≈30).
    const perToken = forwardFlopsPerToken(c, T);
    expect(perToken).toBeGreaterThan(1e5);
    expect(perToken).toBeLessThan(1e6);
  });
});
