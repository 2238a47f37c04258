// π_old consistency: the log-prob the generation engine returns for each sampled token equals
// the taped forward's log-prob of the same token at the same position (log softmax(logits / T),
// the way GRPO's training forward computes it), at temperature 1 and 0.7, for a right-padded
// batch of prompts of different lengths, on the float64 CPU reference and on WebGPU, with MHA
// (the RL presets' attention) and MLA (absorbed decoding). So the first policy update of a batch
// sees ratio 1 on every token and clips none (checked through op.grpoLoss's stats).
//
// The weights are drawn with a large init scale so that the distributions are peaked and differ
// from position to position; a negative control reads the forward one position off and must
// disagree, so an off-by-one alignment could not pass.
import { describe, expect, it } from 'vitest';
import { RL_DEFAULTS, findPreset } from '../config';
import type { Backend } from '../engine/backend';
import * as op from '../engine/ops';
import { Rng } from '../engine/rng';
import { Scope } from '../engine/scope';
import { type ModelConfig, modelConfigOf } from '../model/config';
import { Generator } from '../model/generate';
import { forward, initParams } from '../model/model';
import { cpu, gpuBackend } from '../test/gpu';

const V = 12;
const PROMPT_LENGTHS = [2, 5, 9];
const NEW_TOKENS = 12;

function config(preset: string): ModelConfig {
  // A large init scale: logits of a few units, so log-probs vary from token to token.
  return { ...modelConfigOf(findPreset(preset)!.config, V), initializer_range: 0.25 };
}

interface Check {
  /** max |engine log-prob − forward log-prob| over every generated token */
  worst: number;
  /** min over sequences of max |engine log-prob − forward log-prob one position later| (negative control) */
  shifted: number;
  /** max |engine log-prob − log-prob of the raw logits (no 1/T)|: a trainer that forgot T */
  unscaled: number;
  /** spread of the log-probs compared (a test on constant log-probs would prove nothing) */
  spread: number;
  tokens: number;
  clipped: number;
  /** |GRPO loss − (−Σ w·A)|: ratio 1 and k3 0 everywhere on the first update */
  lossErr: number;
}

async function check(be: Backend, c: ModelConfig, temperature: number): Promise<Check> {
  const scope = new Scope();
  try {
    const params = initParams(be, c, new Rng(5));
    const rng = new Rng(9);
    const prompts = PROMPT_LENGTHS.map((L) => Array.from({ length: L }, () => rng.int(0, V - 1)));
    const gen = Generator.create(be, params, c);
    let seqs: Array<{ tokens: number[]; logprobs: number[] }>;
    try {
      seqs = (
        await gen.generate({
          prompts,
          maxNewTokens: NEW_TOKENS,
          sampling: { temperature, topK: 0, topP: 1 },
          seed: 17,
        })
      ).sequences;
    } finally {
      gen.dispose();
    }
    // The training batch exactly as GRPO lays it out: prompt + completion, right-padded; the
    // position t predicts token t + 1; targets on the completion only.
    const B = prompts.length;
    const T = Math.max(...prompts.map((p, b) => p.length + seqs[b].tokens.length)) - 1;
    const ids = new Int32Array(B * T);
    const targets = new Int32Array(B * T).fill(-1);
    const old = new Float64Array(B * T);
    const adv = new Float64Array(B * T);
    const w = new Float64Array(B * T);
    let count = 0;
    prompts.forEach((p, b) => {
      const full = [...p, ...seqs[b].tokens];
      for (let t = 0; t + 1 < full.length; t++) {
        ids[b * T + t] = full[t];
        const j = t + 1 - p.length;
        if (j >= 0) {
          targets[b * T + t] = full[t + 1];
          old[b * T + t] = seqs[b].logprobs[j];
          adv[b * T + t] = (b + j) % 2 === 0 ? 1 : -0.5;
          count++;
        }
      }
    });
    for (let i = 0; i < B * T; i++) if (targets[i] >= 0) w[i] = 1 / count;
    const raw = forward(params, c, be.fromArray(ids, [B, T], 'i32'));
    const logits = op.scale(raw, 1 / temperature);
    const tgtT = be.fromArray(targets, [B, T], 'i32');
    const lpT = op.view(op.scale(op.crossEntropyRows(logits, tgtT), -1), [B * T]);
    const lp = await lpT.read();
    const lpRaw = await op.scale(op.crossEntropyRows(raw, tgtT), -1).read();
    // Negative control: the log-prob of the same token read one position later.
    const shiftTargets = new Int32Array(B * T).fill(-1);
    for (let i = 0; i + 1 < B * T; i++) if (targets[i] >= 0 && (i + 1) % T !== 0) shiftTargets[i + 1] = targets[i];
    const lpShift = await op.scale(op.crossEntropyRows(logits, be.fromArray(shiftTargets, [B, T], 'i32')), -1).read();
    let worst = 0;
    let unscaled = 0;
    let tokens = 0;
    let lo = Infinity;
    let hi = -Infinity;
    const shiftedPerSeq: number[] = [];
    for (let b = 0; b < B; b++) {
      let s = 0;
      for (let t = 0; t < T; t++) {
        const i = b * T + t;
        if (targets[i] < 0) continue;
        worst = Math.max(worst, Math.abs(lp[i] - old[i]));
        unscaled = Math.max(unscaled, Math.abs(lpRaw[i] - old[i]));
        lo = Math.min(lo, old[i]);
        hi = Math.max(hi, old[i]);
        tokens++;
        if (t + 1 < T && shiftTargets[i + 1] >= 0) s = Math.max(s, Math.abs(lpShift[i + 1] - old[i]));
      }
      shiftedPerSeq.push(s);
    }
    const hp = { epsLow: RL_DEFAULTS.eps_low, epsHigh: RL_DEFAULTS.eps_high, beta: RL_DEFAULTS.beta };
    const n = B * T;
    const oldT = be.fromArray(old, [n]);
    // Reference = the policy itself: k3 = 0; the loss is then −Σ w·A·ratio.
    const { loss, stats } = op.grpoLoss(lpT, oldT, lpT, be.fromArray(adv, [n]), be.fromArray(w, [n]), hp);
    const [l, st] = [(await loss.read())[0], await stats.read()];
    let expected = 0;
    for (let i = 0; i < n; i++) expected -= w[i] * adv[i];
    return {
      worst,
      unscaled,
      shifted: Math.min(...shiftedPerSeq),
      spread: hi - lo,
      tokens,
      clipped: st[0],
      lossErr: Math.abs(l - expected),
    };
  } finally {
    scope.end();
  }
}

describe("π_old: the generation engine's token log-probs equal the training forward's", () => {
  for (const backend of ['cpu', 'webgpu'] as const) {
    for (const preset of ['grpo-micro', 'micro-mla']) {
      for (const temperature of [1, 0.7]) {
        it(`${backend} ${preset} T = ${temperature}`, async () => {
          const be = backend === 'cpu' ? cpu : await gpuBackend();
          const c = config(preset);
          const r = await check(be, c, temperature);
          console.log(
            `[logprob] ${backend} ${preset} (${c.attention}) T=${temperature}: ${r.tokens} tokens, max |Δ log π| ${r.worst.toExponential(2)}, ` +
              `one position off ≥ ${r.shifted.toFixed(3)} per sequence, without 1/T ${r.unscaled.toFixed(3)}, log-probs span ${r.spread.toFixed(2)}, ` +
              `clipped ${r.clipped}, |loss − (−Σ w·A)| ${r.lossErr.toExponential(1)}`,
          );
          expect(r.tokens).toBe(PROMPT_LENGTHS.length * NEW_TOKENS);
          expect(r.spread).toBeGreaterThan(1);
          expect(r.worst).toBeLessThan(backend === 'cpu' ? 1e-9 : 1e-4);
          expect(r.shifted).toBeGreaterThan(0.05);
          // At T ≠ 1 the comparison also tells log-probs of logits / T from those of the raw logits.
          if (temperature !== 1) expect(r.unscaled).toBeGreaterThan(0.05);
          expect(r.clipped).toBe(0);
          expect(r.lossErr).toBeLessThan(backend === 'cpu' ? 1e-12 : 1e-5);
        });
      }
    }
  }
});
