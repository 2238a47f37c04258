// The peer's training step: the micro-dense model written in tfjs-core ops, differentiated with
// tf.variableGrads, clipped to a global grad norm and updated with tfjs's Adam — the same
// shapes and the same work as our micro-dense step:
//
//   ids [B, T] → embedding [V, d] → L × [RMSNorm → MHA (q, k, v, o: d → d, H heads of d/H,
//   RoPE on adjacent pairs, causal softmax) → residual → RMSNorm → SwiGLU (gate, up: d → I,
//   down: I → d) → residual] → RMSNorm → head (d → V, untied) → mean softmax cross-entropy;
//   grads of every weight; global-norm clip; Adam.
//
// Differences, all in tfjs's favour: attention is unfused (tfjs has no fused kernel; the T×T
// scores are materialized — at T = 64 that costs little), and tfjs's Adam has no decoupled
// weight decay (ours does, in the same kernel). Nothing is read back inside a step.

import type * as TF from '@tensorflow/tfjs-core';
import { headDim, type ModelConfig } from '../model/config';
import { Rng } from '../engine/rng';

export interface StepShape {
  batch: number;
  seq: number;
}

export interface AdamSettings {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  clip_norm: number;
}

/** A one-line statement of the model and batch, for the report. */
export function denseStepShape(c: ModelConfig, s: StepShape): string {
  return `B=${s.batch} T=${s.seq} d=${c.hidden_size} L=${c.num_hidden_layers} H=${c.num_attention_heads}×${headDim(c)} I=${c.intermediate_size} V=${c.vocab_size}`;
}

export class TfjsDenseStep {
  private readonly vars: TF.Variable[] = [];
  private readonly w = new Map<string, TF.Variable>();
  private readonly opt: TF.AdamOptimizer;
  private readonly mask: TF.Tensor;
  private readonly cos: TF.Tensor;
  private readonly sin: TF.Tensor;
  private readonly rng: Rng;
  private readonly clip: number;

  constructor(
    private readonly tf: typeof TF,
    private readonly c: ModelConfig,
    private readonly s: StepShape,
    o: AdamSettings,
    seed = 1,
  ) {
    if (
      c.attention !== 'mha' ||
      c.ffn !== 'dense' ||
      c.num_key_value_heads !== c.num_attention_heads ||
      c.num_nextn_predict_layers > 0
    ) {
      throw new Error('TfjsDenseStep: dense MHA models only (no GQA, MoE or MTP)');
    }
    this.rng = new Rng(seed);
    const d = c.hidden_size;
    const I = c.intermediate_size;
    const V = c.vocab_size;
    const add = (name: string, shape: number[], ones = false) => {
      const n = shape.reduce((a, b) => a * b, 1);
      const data = ones ? new Float32Array(n).fill(1) : Float32Array.from(this.rng.normalArray(n, c.initializer_range));
      const v = tf.variable(tf.tensor(data, shape), true);
      this.vars.push(v);
      this.w.set(name, v);
    };
    add('embed', [V, d]);
    for (let l = 0; l < c.num_hidden_layers; l++) {
      add(`${l}.in_norm`, [d], true);
      for (const p of ['q', 'k', 'v', 'o']) add(`${l}.${p}`, [d, d]);
      add(`${l}.post_norm`, [d], true);
      add(`${l}.gate`, [I, d]);
      add(`${l}.up`, [I, d]);
      add(`${l}.down`, [d, I]);
    }
    add('norm', [d], true);
    add('head', [V, d]);
    this.opt = tf.train.adam(o.lr, o.beta1, o.beta2, o.eps);
    this.clip = o.clip_norm;

    // Constants: the causal mask (−1e9 above the diagonal) and RoPE's cos/sin [1, T, 1, hd/2].
    const T = s.seq;
    const hd = headDim(c);
    const mask = new Float32Array(T * T);
    for (let i = 0; i < T; i++) for (let j = i + 1; j < T; j++) mask[i * T + j] = -1e9;
    const cos = new Float32Array(T * (hd / 2));
    const sin = new Float32Array(T * (hd / 2));
    for (let t = 0; t < T; t++) {
      for (let i = 0; i < hd / 2; i++) {
        const a = t * Math.pow(c.rope_theta, (-2 * i) / hd);
        cos[t * (hd / 2) + i] = Math.cos(a);
        sin[t * (hd / 2) + i] = Math.sin(a);
      }
    }
    this.mask = tf.keep(tf.tensor(mask, [T, T]));
    this.cos = tf.keep(tf.tensor(cos, [1, T, 1, hd / 2]));
    this.sin = tf.keep(tf.tensor(sin, [1, T, 1, hd / 2]));
  }

  private W(name: string): TF.Variable {
    return this.w.get(name)!;
  }

  private rmsnorm(x: TF.Tensor, w: TF.Tensor): TF.Tensor {
    const tf = this.tf;
    const ms = tf.mean(tf.square(x), -1, true);
    return tf.mul(tf.mul(x, tf.rsqrt(tf.add(ms, this.c.rms_norm_eps))), w);
  }

  /** x [N, in] · Wᵀ for W [out, in]. */
  private linear(x: TF.Tensor, w: TF.Tensor): TF.Tensor {
    return this.tf.matMul(x as TF.Tensor2D, w as TF.Tensor2D, false, true);
  }

  /** Rotate adjacent pairs (x[2i], x[2i+1]) of x [B, T, H, hd] by t·θ^(−2i/hd). */
  private rope(x: TF.Tensor): TF.Tensor {
    const tf = this.tf;
    const [B, T, H, hd] = x.shape;
    const pairs = tf.reshape(x, [B, T, H, hd / 2, 2]);
    const [x0, x1] = tf.split(pairs, 2, 4).map((t) => tf.reshape(t, [B, T, H, hd / 2]));
    const y0 = tf.sub(tf.mul(x0, this.cos), tf.mul(x1, this.sin));
    const y1 = tf.add(tf.mul(x0, this.sin), tf.mul(x1, this.cos));
    return tf.reshape(tf.stack([y0, y1], 4), [B, T, H, hd]);
  }

  private attention(x: TF.Tensor, l: number): TF.Tensor {
    const tf = this.tf;
    const { batch: B, seq: T } = this.s;
    const H = this.c.num_attention_heads;
    const hd = headDim(this.c);
    const heads = (t: TF.Tensor) => tf.transpose(t, [0, 2, 1, 3]); // [B, T, H, hd] → [B, H, T, hd]
    const q = heads(this.rope(tf.reshape(this.linear(x, this.W(`${l}.q`)), [B, T, H, hd])));
    const k = heads(this.rope(tf.reshape(this.linear(x, this.W(`${l}.k`)), [B, T, H, hd])));
    const v = heads(tf.reshape(this.linear(x, this.W(`${l}.v`)), [B, T, H, hd]));
    const scores = tf.add(tf.mul(tf.matMul(q, k, false, true), 1 / Math.sqrt(hd)), this.mask);
    const o = tf.matMul(tf.softmax(scores), v); // [B, H, T, hd]
    return this.linear(tf.reshape(tf.transpose(o, [0, 2, 1, 3]), [B * T, H * hd]), this.W(`${l}.o`));
  }

  private loss(ids: TF.Tensor, targets: TF.Tensor): TF.Scalar {
    const tf = this.tf;
    let x = tf.gather(this.W('embed'), ids); // [N, d]
    for (let l = 0; l < this.c.num_hidden_layers; l++) {
      x = tf.add(x, this.attention(this.rmsnorm(x, this.W(`${l}.in_norm`)), l));
      const h = this.rmsnorm(x, this.W(`${l}.post_norm`));
      const g = this.linear(h, this.W(`${l}.gate`));
      const u = this.linear(h, this.W(`${l}.up`));
      x = tf.add(x, this.linear(tf.mul(tf.mul(g, tf.sigmoid(g)), u), this.W(`${l}.down`)));
    }
    const logits = this.linear(this.rmsnorm(x, this.W('norm')), this.W('head'));
    return tf.losses.softmaxCrossEntropy(tf.oneHot(targets, this.c.vocab_size), logits) as TF.Scalar;
  }

  /**
   * Record one training step, on `batch` or on random tokens (uploaded like ours uploads its
   * batch). Nothing is read back.
   */
  step(batch?: { ids: Int32Array; targets: Int32Array }): void {
    const tf = this.tf;
    const N = this.s.batch * this.s.seq;
    const V = this.c.vocab_size;
    let ids = batch?.ids;
    let targets = batch?.targets;
    if (!ids || !targets) {
      ids = new Int32Array(N);
      targets = new Int32Array(N);
      for (let i = 0; i < N; i++) {
        ids[i] = Math.floor(this.rng.next() * V);
        targets[i] = Math.floor(this.rng.next() * V);
      }
    }
    tf.tidy(() => {
      const idsT = tf.tensor1d(ids!, 'int32');
      const tgtT = tf.tensor1d(targets!, 'int32');
      const { grads } = tf.variableGrads(() => this.loss(idsT, tgtT), this.vars);
      const names = Object.keys(grads);
      // Σ‖g‖² pairwise with tf.add (tf.addN would bind every gradient in one dispatch, beyond
      // WebGPU's default 8 storage buffers per stage).
      let normSq = tf.sum(tf.square(grads[names[0]]));
      for (const n of names.slice(1)) normSq = tf.add(normSq, tf.sum(tf.square(grads[n])));
      const scale = tf.minimum(1, tf.div(this.clip, tf.add(tf.sqrt(normSq), 1e-6)));
      this.opt.applyGradients(names.map((name) => ({ name, tensor: tf.mul(grads[name], scale) })));
    });
  }

  /** A fixed batch (for checks): ids i·7 mod V, targets i·3 + 1 mod V. */
  fixedBatch(): { ids: Int32Array; targets: Int32Array } {
    const N = this.s.batch * this.s.seq;
    const V = this.c.vocab_size;
    return {
      ids: Int32Array.from({ length: N }, (_, i) => (i * 7) % V),
      targets: Int32Array.from({ length: N }, (_, i) => (i * 3 + 1) % V),
    };
  }

  /** Mean loss on the fixed batch, read back (for checks). */
  async lossValue(): Promise<number> {
    const tf = this.tf;
    const b = this.fixedBatch();
    const ids = tf.tensor1d(b.ids, 'int32');
    const tgt = tf.tensor1d(b.targets, 'int32');
    const l = tf.tidy(() => this.loss(ids, tgt));
    const v = (await l.data())[0];
    tf.dispose([ids, tgt, l]);
    return v;
  }

  dispose(): void {
    this.tf.dispose([...this.vars, this.mask, this.cos, this.sin]);
    this.opt.dispose();
  }
}
