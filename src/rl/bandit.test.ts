// GRPO on a one-token bandit, built from the lowest-level pieces only (the generation engine for
// rollouts and π_old, the taped forward for log π_θ, op.grpoLoss, AdamW, and the pure
// `advantages`): a prompt, completions of exactly one token, reward 1 for one answer token and 0
// for every other. A correct policy gradient must take that token's probability from about 1/V
// to above 0.9 within a bounded number of steps, on the float64 CPU reference and on WebGPU,
// with the lab's GRPO defaults (clipped ratio, k3 KL against the initial policy with β, std
// advantages, sequence normalization, μ = 1) and with each variation: μ > 1 (the later updates
// see ratios ≠ 1, so clipping engages), token and constant normalization, Dr. GRPO's mean
// advantages, and a sampling temperature ≠ 1 (log-probs of logits / T on both sides).
//
// With one-token completions the three normalizations differ by a constant factor only; the
// constant one uses the lab's default budget (rl.max_new_tokens), so its weights are 32× smaller.
// A negative control (CPU) negates the advantages: the same loop must then drive the answer's
// probability down. Every loop is bounded by steps, never by wall time.
import { describe, expect, it } from 'vitest';
import { RL_DEFAULTS, findPreset } from '../config';
import type { Backend } from '../engine/backend';
import * as op from '../engine/ops';
import { Rng } from '../engine/rng';
import { Scope, unscoped } from '../engine/scope';
import { Tape } from '../engine/tape';
import type { Tensor } from '../engine/tensor';
import { type ModelConfig, modelConfigOf } from '../model/config';
import { Generator } from '../model/generate';
import { forward, initParams, type Params } from '../model/model';
import { isBuffer } from '../model/moe';
import { cpu, gpuBackend } from '../test/gpu';
import { AdamW } from '../train/optim';
import { advantages } from './grpo';

/** Vocabulary of the bandit model. */
const V = 8;
const PROMPT = [1, 2, 3];
/** The one rewarded answer token. */
const TARGET = 5;
/** Prompts (groups) per step and completions per group: the lab's defaults (4 × 8). */
const GROUPS = RL_DEFAULTS.prompts_per_step;
const G = RL_DEFAULTS.group_size;
/** The bandit's learning rate (the micro presets' pretraining peak): a fresh model, one consistent signal. */
const LR = 3e-3;
/** Step bound for every run: every variant crosses 0.9 in 5–12 steps (printed), well inside it. */
const MAX_STEPS = 60;

/** The grpo-micro model (MHA, dense) over the bandit's vocabulary. */
function bandModel(): ModelConfig {
  return modelConfigOf(findPreset('grpo-micro')!.config, V);
}

interface Variant {
  name: string;
  mu: number;
  lossNorm: 'sequence' | 'token' | 'constant';
  advantage: 'std' | 'mean';
  temperature: number;
  /** Negative control: advantages with the wrong sign. */
  flipped?: boolean;
}

const DEFAULTS: Variant = {
  name: 'lab defaults (μ = 1, std advantages, sequence norm, T = 1)',
  mu: RL_DEFAULTS.mu,
  lossNorm: RL_DEFAULTS.loss_norm,
  advantage: RL_DEFAULTS.advantage,
  temperature: RL_DEFAULTS.temperature,
};

const VARIANTS: Variant[] = [
  DEFAULTS,
  { ...DEFAULTS, name: 'μ = 2', mu: 2 },
  { ...DEFAULTS, name: 'μ = 4', mu: 4 },
  { ...DEFAULTS, name: 'token normalization', lossNorm: 'token' },
  { ...DEFAULTS, name: 'constant normalization', lossNorm: 'constant' },
  { ...DEFAULTS, name: 'mean advantages (Dr. GRPO)', advantage: 'mean' },
  {
    ...DEFAULTS,
    name: 'mean advantages, constant normalization, μ = 2',
    advantage: 'mean',
    lossNorm: 'constant',
    mu: 2,
  },
  { ...DEFAULTS, name: 'temperature 0.7', temperature: 0.7 },
];

/** π(TARGET | prompt) at temperature T, read on the host. */
async function pTarget(be: Backend, params: Params, c: ModelConfig, T: number): Promise<number> {
  const scope = new Scope();
  try {
    const logits = await forward(params, c, be.fromArray(PROMPT, [1, PROMPT.length], 'i32')).read();
    const row = Array.from(logits.subarray((PROMPT.length - 1) * V, PROMPT.length * V), (x) => x / T);
    const m = Math.max(...row);
    const z = row.reduce((a, x) => a + Math.exp(x - m), 0);
    return Math.exp(row[TARGET] - m) / z;
  } finally {
    scope.end();
  }
}

/** Per-position log π(target) of logits / T: −CE, 0 where the target is −1. */
function tokenLogprobs(params: Params, c: ModelConfig, ids: Tensor, targets: Tensor, T: number): Tensor {
  return op.scale(op.crossEntropyRows(op.scale(forward(params, c, ids), 1 / T), targets), -1);
}

interface BanditResult {
  p0: number;
  p: number;
  /** The first step after which π(TARGET) > 0.9, or null. */
  reached: number | null;
  /** Updates with at least one clipped token (μ > 1 only can have any). */
  clippedUpdates: number;
  /** The largest |ratio − 1| seen on a first update (π_old is the rollout's: should be ~0). */
  firstRatioErr: number;
  rewards: number[];
}

/** GRPO on the bandit until π(TARGET) > 0.9 or MAX_STEPS steps. */
async function bandit(be: Backend, v: Variant): Promise<BanditResult> {
  const c = bandModel();
  const params = initParams(be, c, new Rng(11));
  const trainable: Params = new Map([...params].filter(([name]) => !isBuffer(name)));
  // The frozen reference policy: a copy of the initial weights.
  const ref: Params = new Map();
  for (const [name, t] of params) {
    const data = await t.read();
    ref.set(
      name,
      unscoped(() => be.fromArray(data, t.shape)),
    );
  }
  const optim = new AdamW(be, trainable);
  // The weights become the optimizer's arena slots (as TrainState does), so the model reads them.
  for (const [name, slot] of optim.adopt(trainable)) {
    trainable.set(name, slot);
    params.set(name, slot);
  }
  const optimCfg = findPreset('grpo-micro')!.config.optim; // β 0.9/0.95, wd 0.1, grad clip 1.0
  const hp = { epsLow: RL_DEFAULTS.eps_low, epsHigh: RL_DEFAULTS.eps_high, beta: RL_DEFAULTS.beta };
  const R = GROUPS * G;
  const T = PROMPT.length; // the prompt's tokens feed positions 0..T−1; position T−1 predicts the answer
  const ids = new Int32Array(R * T);
  const targets = new Int32Array(R * T).fill(-1);
  for (let r = 0; r < R; r++) ids.set(PROMPT, r * T);
  const p0 = await pTarget(be, params, c, v.temperature);
  const out: BanditResult = { p0, p: p0, reached: null, clippedUpdates: 0, firstRatioErr: 0, rewards: [] };
  try {
    for (let step = 1; step <= MAX_STEPS; step++) {
      const scope = new Scope();
      try {
        const gen = Generator.create(be, params, c);
        let seqs: Array<{ tokens: number[]; logprobs: number[] }>;
        try {
          const res = await gen.generate({
            prompts: Array.from({ length: R }, () => PROMPT),
            maxNewTokens: 1,
            sampling: { temperature: v.temperature, topK: 0, topP: 1 },
            seed: 1000 + step,
          });
          seqs = res.sequences;
        } finally {
          gen.dispose();
        }
        const rewards = seqs.map((s) => (s.tokens[0] === TARGET ? 1 : 0));
        out.rewards.push(rewards.reduce((a: number, b) => a + b, 0) / R);
        const adv: number[] = [];
        for (let g = 0; g < GROUPS; g++) adv.push(...advantages(rewards.slice(g * G, (g + 1) * G), v.advantage));
        if (v.flipped) for (let i = 0; i < R; i++) adv[i] = -adv[i];
        const weight =
          v.lossNorm === 'sequence'
            ? 1 / (1 * R)
            : v.lossNorm === 'token'
              ? 1 / R
              : 1 / (R * RL_DEFAULTS.max_new_tokens);
        const old = new Float64Array(R * T);
        const advT = new Float64Array(R * T);
        const w = new Float64Array(R * T);
        for (let r = 0; r < R; r++) {
          const k = r * T + T - 1; // the position that predicts the completion's only token
          targets[k] = seqs[r].tokens[0];
          old[k] = seqs[r].logprobs[0];
          advT[k] = adv[r];
          w[k] = weight;
        }
        const idsT = be.fromArray(ids, [R, T], 'i32');
        const tgtT = be.fromArray(targets, [R, T], 'i32');
        const oldT = be.fromArray(old, [R * T]);
        const advTT = be.fromArray(advT, [R * T]);
        const wT = be.fromArray(w, [R * T]);
        const refT = op.view(tokenLogprobs(ref, c, idsT, tgtT, v.temperature), [R * T]);
        for (let u = 0; u < v.mu; u++) {
          const tape = new Tape();
          const lp = tape.run(() => op.view(tokenLogprobs(params, c, idsT, tgtT, v.temperature), [R * T]));
          const res = tape.run(() => op.grpoLoss(lp, oldT, refT, advTT, wT, hp));
          if (u === 0) {
            const [lps, olds] = [await lp.read(), old];
            for (let r = 0; r < R; r++) {
              const k = r * T + T - 1;
              out.firstRatioErr = Math.max(out.firstRatioErr, Math.abs(Math.exp(lps[k] - olds[k]) - 1));
            }
          }
          const all = tape.backward(res.loss);
          const grads = new Map<string, Tensor>();
          for (const [name, p] of trainable) {
            const g = all.get(p.id);
            if (g) grads.set(name, g);
          }
          optim.update(trainable, grads, optimCfg, LR);
          const stats = await res.stats.read();
          if (stats[0] > 0) out.clippedUpdates++;
          await be.flush();
        }
      } finally {
        scope.end();
      }
      out.p = await pTarget(be, params, c, v.temperature);
      if (out.p > 0.9) {
        out.reached = step;
        break;
      }
    }
  } finally {
    for (const t of [...params.values(), ...ref.values()]) t.dispose();
    optim.dispose();
  }
  return out;
}

describe('GRPO bandit: one rewarded answer token', () => {
  for (const backend of ['cpu', 'webgpu'] as const) {
    for (const v of VARIANTS) {
      it(`${backend}: ${v.name} takes π(answer) from ~1/V to > 0.9 within ${MAX_STEPS} steps`, async () => {
        const be = backend === 'cpu' ? cpu : await gpuBackend();
        const r = await bandit(be, v);
        const meanReward = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
        console.log(
          `[bandit] ${backend} ${v.name}: π(answer) ${r.p0.toFixed(3)} → ${r.p.toFixed(3)} at step ${r.reached ?? `>${MAX_STEPS}`}; ` +
            `reward ${meanReward(r.rewards.slice(0, 3)).toFixed(3)} (first 3 steps) → ${meanReward(r.rewards.slice(-3)).toFixed(3)} (last 3); ` +
            `updates with clipping ${r.clippedUpdates}; max |ratio − 1| on first updates ${r.firstRatioErr.toExponential(1)}`,
        );
        // The start is the untrained model: close to uniform.
        expect(r.p0).toBeGreaterThan(0.5 / V);
        expect(r.p0).toBeLessThan(2 / V);
        expect(r.reached, `π(answer) only reached ${r.p.toFixed(3)}`).not.toBeNull();
        expect(r.p).toBeGreaterThan(0.9);
        // π_old is the rollout's own log-prob: the first update of each batch is exactly on-policy.
        expect(r.firstRatioErr).toBeLessThan(backend === 'cpu' ? 1e-9 : 1e-4);
        if (v.mu === 1) expect(r.clippedUpdates).toBe(0);
      });
    }
  }

  it('cpu: negative control — the same loop with the advantages negated drives π(answer) down', async () => {
    const r = await bandit(cpu, { ...DEFAULTS, name: 'flipped', flipped: true });
    console.log(
      `[bandit] cpu flipped advantages: π(answer) ${r.p0.toFixed(3)} → ${r.p.toFixed(4)} after ${MAX_STEPS} steps`,
    );
    expect(r.reached).toBeNull();
    expect(r.p).toBeLessThan(r.p0 / 2);
  });
});
