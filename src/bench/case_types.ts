// The types of a bench case and its runners (cases.ts builds the kernel cases, train_cases.ts
// the training steps, probes.ts the roofline probes).

import type { StepCensus } from './report';

export interface Runner {
  name: string;
  /** Fewest units per sample (training steps: several back to back, as the lab runs them). */
  minReps?: number;
  run(reps: number): unknown;
  finish(): Promise<void>;
  teardown(): void;
}

export type Make = () => Runner | Promise<Runner>;

export interface CaseDef {
  name: string;
  group: 'matmul' | 'fp8_gemm' | 'attention' | 'moe' | 'train_step' | 'probe';
  shape: string;
  flops: number;
  bytes: number;
  /** Tokens per unit (training steps). */
  tokens?: number;
  note?: string;
  ours: Make;
  peer?: Make;
  /** The peer runs on our device (a path of ours as the reference, e.g. the dense FFN beside MoE), not tfjs's. */
  peerIsOurs?: boolean;
  floor?: Make;
  also?: Make[];
  /** Called after timing, before teardown: step census and bound bytes. */
  extra?: () => Promise<{
    bytes?: number;
    census?: StepCensus;
    peerDispatches?: number;
    peerBoundBytes?: number;
    /** Dispatches per unit of each `also` side, in order (training steps: the per-tensor optimizer). */
    alsoDispatches?: number[];
    note?: string;
  }>;
}

export const OURS = 'ours';
export const TFJS = 'tfjs-webgpu';
