// The generation engine: batched autoregressive decoding on the device with a KV cache, GPU
// sampling, per-token log-probs, and speculative decoding with the MTP module as the drafter.
//
// Cache. Each layer keeps a [B, C, W] buffer per sequence slot, C = the longest prompt plus its
// token budget (+2 for a speculative overshoot). MHA/GQA caches RoPE'd keys and values
// (W = Hkv·hd each); MLA caches its latent [c ; k_pe] (W = dc + dr) and decodes in the absorbed
// form (spec §1): W_UK moves into the query and W_UV into the output, so the cache is never
// up-projected. Every sequence has its own length: a forward of n tokens writes them at
// positions pos[b] .. pos[b]+n−1 (ropeAt, cacheWrite) and query j attends to 0 ..= pos[b]+j
// (cachedAttention). Prompts of different lengths are prefilled together, right-padded; a padded
// row writes garbage past its sequence's length, which the next real token overwrites before any
// query can see it.
//
// Sampling. samplingProbs applies temperature, top-k and top-p on the device; sampleCategorical
// draws with uniforms from a seeded host generator (one per sequence per draw, in a fixed order),
// so a seed gives the same tokens on the same adapter. tokenLogprob returns
// log softmax(logits / T)[token]: the log-prob of the token under the model at the sampling
// temperature, before top-k/top-p truncation (what a policy-gradient ratio needs). Greedy
// (T = 0) reports the T = 1 log-prob.
//
// Speculative decoding (V3 §2.2: the MTP modules "can be repurposed for speculative decoding").
// The main model has fed tokens 0..P−1 and sampled `cur` (token P). MTP module 1 at position
// P−1 combines the main hidden state h_{P−1} with Emb(cur) and drafts d for position P+1 from
// its distribution q. One main forward of [cur, d] at positions P, P+1 yields p (for P+1) and
// p' (for P+2). d is kept with probability min(1, p(d)/q(d)); otherwise the token is drawn from
// norm(max(0, p − q)), which leaves the output distributed exactly as p. On acceptance a bonus
// token is drawn from p'. So each main forward emits 1 or 2 tokens. Only module 1 drafts (one
// token ahead), as in V3's report; deeper modules are a training signal here.
//
// Finished sequences (a stop token or their budget) stay in the batch and are ignored; their
// position stops advancing, so they keep rewriting one slot.

import type { Backend, CachedAttentionShape } from '../engine/backend';
import * as op from '../engine/ops';
import { Rng } from '../engine/rng';
import { Scope, unscoped } from '../engine/scope';
import type { Tensor } from '../engine/tensor';
import { headDim, type ModelConfig } from './config';
import {
  checkRequest,
  type DrafterInput,
  disposeCache,
  emit,
  type LayerCache,
  type Run,
  rowOf,
  settleDrafts,
  statsOf,
  type Verdict,
} from './generate-run';
import { blockLinear } from './linear';
import { mlaLatent, mlaQuery, mlaScale, rotate, type ParamGetter } from './mla';
import { ffn, getter, type Params } from './model';
import { isMoeLayer, moeLayer } from './moe';
import { mtpLayerIndex } from './mtp';

export interface SamplingSpec {
  /** 0 = greedy (argmax). */
  temperature: number;
  /** Keep the k most likely tokens (ties kept); 0 = off. */
  topK: number;
  /** Nucleus: keep the smallest head of the distribution with this much mass; 1 = off. */
  topP: number;
}

export interface GenerateOptions {
  /** Token ids of each prompt (at least one token each). */
  prompts: number[][];
  /** New tokens per sequence (one number for all, or one per prompt). */
  maxNewTokens: number | number[];
  /** Token ids that end a sequence (the stop token is kept in its output). One list for all, or one per prompt. */
  stopTokens?: number[] | number[][];
  sampling: SamplingSpec;
  seed: number;
  /** Draft with MTP module 1 and verify with the main model (needs num_nextn_predict_layers ≥ 1). */
  speculative?: boolean;
  /** Also return, per generated token, the main model's logits it was sampled from (tests, inspection). */
  keepLogits?: boolean;
  /** Called after every main-model forward with the tokens emitted so far and the total budget. */
  onProgress?: (emitted: number, budget: number) => void;
}

export interface GeneratedSequence {
  /** The new tokens (without the prompt); a stop token, if hit, is the last. */
  tokens: number[];
  /** log p(token) under the model at the sampling temperature, one per token. */
  logprobs: number[];
  finish: 'stop' | 'length';
  /** With keepLogits: the logits [V] each token was sampled from. */
  logits?: Float64Array[];
}

export interface GenerateStats {
  mode: 'plain' | 'speculative';
  /** Tokens emitted over all sequences. */
  tokens: number;
  /** Main-model forwards (prefill included). */
  forwards: number;
  ms: number;
  tokensPerSecond: number;
  /** Speculative only: drafts proposed to unfinished sequences, and how many were accepted. */
  drafted: number;
  accepted: number;
  acceptanceRate: number | null;
}

export interface GenerateResult {
  sequences: GeneratedSequence[];
  stats: GenerateStats;
}

/** MLA's absorbed up-projections of one layer: W_UK [H, dn, dc] and W_UV [H, dv, dc]. */
interface Absorbed {
  wUK: Tensor;
  wUV: Tensor;
  owners: Tensor[];
}

export class Generator {
  private readonly p: ParamGetter;
  private readonly absorbed = new Map<number, Absorbed>();

  private constructor(
    readonly be: Backend,
    readonly params: Params,
    readonly c: ModelConfig,
  ) {
    this.p = getter(params);
  }

  /** For MLA, splits every layer's kv_b_proj (main and MTP) into W_UK and W_UV once, on the device. */
  static create(be: Backend, params: Params, c: ModelConfig): Generator {
    const g = new Generator(be, params, c);
    if (c.attention === 'mla') {
      const H = c.num_attention_heads;
      const dn = c.qk_nope_head_dim;
      const dv = c.v_head_dim;
      const dc = c.kv_lora_rank;
      const layers = c.num_hidden_layers + (c.num_nextn_predict_layers > 0 ? 1 : 0);
      for (let l = 0; l < layers; l++) {
        // Made outside every scope: the generator owns them (dispose), whatever scope creates it.
        // kv_b_proj [H·(dn+dv), dc] viewed [H, dn+dv, dc]; W_UK = rows [0, dn) of each head, W_UV the rest.
        unscoped(() => {
          const heads = be.view(g.p(`model.layers.${l}.self_attn.kv_b_proj.weight`), [H, (dn + dv) * dc]);
          const uk = be.sliceLast(heads, 0, dn * dc);
          const uv = be.sliceLast(heads, dn * dc, dv * dc);
          g.absorbed.set(l, { wUK: be.view(uk, [H, dn, dc]), wUV: be.view(uv, [H, dv, dc]), owners: [uk, uv] });
        });
      }
    }
    return g;
  }

  dispose(): void {
    for (const a of this.absorbed.values()) for (const t of a.owners) t.dispose();
    this.absorbed.clear();
  }

  /** Values cached per token per layer: MLA's dc + dr against MHA's 2·Hkv·hd. */
  get cacheValuesPerToken(): number {
    const c = this.c;
    return c.attention === 'mla' ? c.kv_lora_rank + c.qk_rope_head_dim : 2 * c.num_key_value_heads * headDim(c);
  }

  private newCache(B: number, C: number): LayerCache {
    const c = this.c;
    if (c.attention === 'mla') {
      const kv = this.be.zeros([B, C, c.kv_lora_rank + c.qk_rope_head_dim]);
      return { k: kv, v: kv };
    }
    const w = c.num_key_value_heads * headDim(c);
    return { k: this.be.zeros([B, C, w]), v: this.be.zeros([B, C, w]) };
  }

  /** Attention of layer l for n new tokens per sequence at positions pos[b]..; writes them to the cache first. */
  private attend(l: number, cache: LayerCache, x: Tensor, B: number, n: number, pos: Tensor): Tensor {
    const { c, p, be } = this;
    const pre = `model.layers.${l}.self_attn`;
    const H = c.num_attention_heads;
    if (c.attention === 'mha') {
      const hd = headDim(c);
      const Hkv = c.num_key_value_heads;
      const q = rotate(op.view(blockLinear(c, x, p(`${pre}.q_proj.weight`)), [B, n, H, hd]), c.rope_theta, pos);
      const k = rotate(op.view(blockLinear(c, x, p(`${pre}.k_proj.weight`)), [B, n, Hkv, hd]), c.rope_theta, pos);
      const v = blockLinear(c, x, p(`${pre}.v_proj.weight`));
      be.cacheWrite(cache.k, op.view(k, [B, n, Hkv * hd]), pos);
      be.cacheWrite(cache.v, op.view(v, [B, n, Hkv * hd]), pos);
      const s: CachedAttentionShape = {
        heads: H,
        kvHeads: Hkv,
        dQK: hd,
        dV: hd,
        kStride: Hkv * hd,
        vStride: Hkv * hd,
        vOffset: 0,
        scale: 1 / Math.sqrt(hd),
      };
      const o = be.cachedAttention(q, cache.k, cache.v, pos, s);
      return blockLinear(c, op.view(o, [B, n, H * hd]), p(`${pre}.o_proj.weight`));
    }
    const dn = c.qk_nope_head_dim;
    const dr = c.qk_rope_head_dim;
    const dc = c.kv_lora_rank;
    const dv = c.v_head_dim;
    const { wUK, wUV } = this.absorbed.get(l)!;
    const N = B * n;
    const q = mlaQuery(p, c, pre, x, B, n, pos);
    const { latent, kpe } = mlaLatent(p, c, pre, x, B, n, pos);
    be.cacheWrite(cache.k, op.concatLast(latent, op.view(kpe, [B, n, dr])), pos);
    // q~_h = q_nope_h · W_UK[h]: per head, [N, dn] · [dn, dc].
    const qLat = op.swap01(op.matmul(op.swap01(op.view(q.nope, [N, H, dn])), wUK)); // [N, H, dc]
    const qAbs = op.view(op.concatLast(qLat, op.view(q.pe, [N, H, dr])), [B, n, H, dc + dr]);
    const s: CachedAttentionShape = {
      heads: H,
      kvHeads: 1,
      dQK: dc + dr,
      dV: dc,
      kStride: dc + dr,
      vStride: dc + dr,
      vOffset: 0,
      scale: mlaScale(c),
    };
    const oLat = be.cachedAttention(qAbs, cache.k, cache.v, pos, s); // [B, n, H, dc]
    // o_h = o_lat_h · W_UV[h]ᵀ.
    const o = op.swap01(op.matmul(op.swap01(op.view(oLat, [N, H, dc])), wUV, { transB: true })); // [N, H, dv]
    return blockLinear(c, op.view(o, [B, n, H * dv]), p(`${pre}.o_proj.weight`));
  }

  private block(l: number, cache: LayerCache, x: Tensor, B: number, n: number, pos: Tensor): Tensor {
    const { c, p } = this;
    const pre = `model.layers.${l}`;
    x = op.add(x, this.attend(l, cache, op.rmsnorm(x, p(`${pre}.input_layernorm.weight`), c.rms_norm_eps), B, n, pos));
    const h = op.rmsnorm(x, p(`${pre}.post_attention_layernorm.weight`), c.rms_norm_eps);
    return op.add(x, isMoeLayer(c, l) ? moeLayer(p, c, `${pre}.mlp`, h, null) : ffn(p, c, `${pre}.mlp`, h));
  }

  /** The main model on embeddings x [B, n, d] at positions pos[b]..: the last block's output [B, n, d]. */
  private main(caches: LayerCache[], x: Tensor, B: number, n: number, pos: Tensor): Tensor {
    for (let l = 0; l < this.c.num_hidden_layers; l++) x = this.block(l, caches[l], x, B, n, pos);
    return x;
  }

  /** MTP module 1 at positions pos[b]..: main hidden states h [B, n, d] and the next tokens ids [B, n]. */
  private mtp(cache: LayerCache, h: Tensor, ids: Tensor, B: number, n: number, pos: Tensor): Tensor {
    const { c, p } = this;
    const l = mtpLayerIndex(c, 1);
    const pre = `model.layers.${l}`;
    const e = op.rmsnorm(op.embedding(p('model.embed_tokens.weight'), ids), p(`${pre}.enorm.weight`), c.rms_norm_eps);
    const hn = op.rmsnorm(h, p(`${pre}.hnorm.weight`), c.rms_norm_eps);
    const x = blockLinear(c, op.concatLast(e, hn), p(`${pre}.eh_proj.weight`));
    return this.block(l, cache, x, B, n, pos);
  }

  /** Logits [R, V] of rows `rows` of h [B, n, d] (flattened), through a final norm and the shared head. */
  private logits(h: Tensor, rows: number[], norm: string): Tensor {
    const { be, c, p } = this;
    const [B, n, d] = h.shape;
    const all = op.view(h, [B * n, d]);
    // Every row in order (a plain decode step): no gather.
    const identity = rows.length === B * n && rows.every((r, i) => r === i);
    const picked = identity
      ? all
      : op.view(op.embedding(all, be.fromArray(rows, [1, rows.length], 'i32')), [rows.length, d]);
    return op.linear(op.rmsnorm(picked, p(norm), c.rms_norm_eps), p('lm_head.weight'));
  }

  /** Every sequence's current token as ids [B, 1]. */
  private curIds(run: Run): Tensor {
    const rows = run.cur.map((t) => [t]);
    return this.ids(rows, 1);
  }

  /** Token ids i32 [rows, width]: each row's first width tokens, zero-padded. */
  private ids(rows: number[][], width: number): Tensor {
    const flat = new Int32Array(rows.length * width);
    rows.forEach((r, b) => {
      flat.set(r.slice(0, width), b * width);
    });
    return this.be.fromArray(flat, [rows.length, width], 'i32');
  }

  /** Run a batch of prompts to completion. */
  async generate(opts: GenerateOptions): Promise<GenerateResult> {
    const run = this.startRun(opts);
    const t0 = performance.now();
    const persistent = new Scope();
    try {
      const hidden = await this.prefill(run);
      opts.onProgress?.(run.emitted, run.totalBudget);
      if (hidden) this.prefillDrafter(run, hidden); // speculative only
      // ---- one main forward per iteration until every sequence is done.
      while (run.active.some(Boolean)) {
        const scope = new Scope();
        try {
          const posT = this.be.fromArray(run.pos, [run.B], 'i32');
          if (run.speculative) await this.speculativeStep(run, scope, posT);
          else await this.decodeStep(run, posT);
        } finally {
          scope.end();
        }
        opts.onProgress?.(run.emitted, run.totalBudget);
      }
    } finally {
      persistent.end();
      run.q?.dispose();
      run.draft?.dispose();
      for (const L of run.caches) disposeCache(L);
      if (run.mtpCache) disposeCache(run.mtpCache);
    }
    return { sequences: run.out, stats: statsOf(run, performance.now() - t0) };
  }

  /** Validates the request and sets up one call's state: empty outputs, the seeded RNG and the KV caches. */
  private startRun(opts: GenerateOptions): Run {
    const { be, c } = this;
    const { B, budget, stops, speculative } = checkRequest(opts, c);
    const lens = opts.prompts.map((pr) => pr.length);
    const capacity = Math.max(...lens.map((L, b) => L + budget[b])) + 2;
    const rng = new Rng(opts.seed);
    const out: GeneratedSequence[] = opts.prompts.map(() => ({
      tokens: [],
      logprobs: [],
      finish: 'length',
      ...(opts.keepLogits ? { logits: [] } : {}),
    }));
    const caches = Array.from({ length: c.num_hidden_layers }, () => this.newCache(B, capacity));
    const mtpCache = speculative ? this.newCache(B, capacity) : null;
    return {
      opts,
      B,
      V: c.vocab_size,
      budget,
      stops,
      speculative,
      lens,
      Pmax: Math.max(...lens),
      uniforms: () =>
        be.fromArray(
          Array.from({ length: B }, () => rng.next()),
          [B],
        ),
      out,
      active: opts.prompts.map(() => true),
      totalBudget: budget.reduce((a, b) => a + b, 0),
      emitted: 0,
      caches,
      mtpCache,
      emb: this.p('model.embed_tokens.weight'),
      pos: lens.slice(),
      cur: [],
      q: null,
      draft: null,
      forwards: 0,
      drafted: 0,
      accepted: 0,
    };
  }

  /**
   * Prefill: every prompt at once, right-padded to Pmax; samples and emits each one's first token.
   * Speculative: returns the main hidden states (kept past the step) for the drafter's prefill.
   */
  private async prefill(run: Run): Promise<Tensor | null> {
    const { be } = this;
    const { B, Pmax, lens, opts } = run;
    const { temperature, topK, topP } = opts.sampling;
    let hidden: Tensor | null = null;
    const scope = new Scope();
    try {
      const h = this.main(
        run.caches,
        op.embedding(run.emb, this.ids(opts.prompts, Pmax)),
        B,
        Pmax,
        be.zeros([B], 'i32'),
      );
      const logits = this.logits(
        h,
        lens.map((L, b) => b * Pmax + L - 1),
        'model.norm.weight',
      );
      const probs = be.samplingProbs(logits, temperature, topK, topP);
      const tok = be.sampleCategorical(probs, run.uniforms());
      const lp = be.tokenLogprob(logits, tok, temperature);
      if (run.speculative) {
        scope.keep(h);
        hidden = h;
      }
      const [toks, lps, lg] = await Promise.all([be.read(tok), be.read(lp), opts.keepLogits ? be.read(logits) : null]);
      run.forwards++;
      run.cur = Array.from(toks);
      for (let b = 0; b < B; b++) emit(run, b, run.cur[b], lps[b], lg ? rowOf(lg as Float64Array, b, run.V) : null);
    } finally {
      scope.end();
    }
    return hidden;
  }

  /** MTP prefill over the prompts: draws the first draft (and its distribution q) from the prefill's hidden states. */
  private prefillDrafter(run: Run, hidden: Tensor): void {
    const { be, c } = this;
    const { B, Pmax, lens, opts } = run;
    const { temperature, topK, topP } = opts.sampling;
    // MTP prefill: position i pairs h_i with token i+1 (the prompt's next token, or the one just sampled).
    const next = opts.prompts.map((pr, b) => [...pr.slice(1), run.cur[b]]);
    const scope = new Scope();
    try {
      const hm = this.mtp(run.mtpCache!, hidden, this.ids(next, Pmax), B, Pmax, be.zeros([B], 'i32'));
      run.q = be.samplingProbs(
        this.logits(
          hm,
          lens.map((L, b) => b * Pmax + L - 1),
          `model.layers.${mtpLayerIndex(c, 1)}.shared_head.norm.weight`,
        ),
        temperature,
        topK,
        topP,
      );
      run.draft = be.sampleCategorical(run.q, run.uniforms());
      scope.keep(run.q, run.draft);
    } finally {
      scope.end();
    }
    hidden.dispose();
  }

  /** One plain decode step: feeds every sequence's current token, samples the next and emits it where still active. */
  private async decodeStep(run: Run, posT: Tensor): Promise<void> {
    const { be } = this;
    const { B, opts } = run;
    const { temperature, topK, topP } = opts.sampling;
    const h = this.main(run.caches, op.embedding(run.emb, this.curIds(run)), B, 1, posT);
    const logits = this.logits(
      h,
      Array.from({ length: B }, (_, b) => b),
      'model.norm.weight',
    );
    const tok = be.sampleCategorical(be.samplingProbs(logits, temperature, topK, topP), run.uniforms());
    const lp = be.tokenLogprob(logits, tok, temperature);
    const [toks, lps, lg] = await Promise.all([be.read(tok), be.read(lp), opts.keepLogits ? be.read(logits) : null]);
    run.forwards++;
    for (let b = 0; b < B; b++) {
      if (!run.active[b]) continue;
      emit(run, b, toks[b], lps[b], lg ? rowOf(lg as Float64Array, b, run.V) : null);
      run.cur[b] = toks[b];
      run.pos[b]++;
    }
  }

  /** One speculative step: verifies the pending drafts, emits 1 or 2 tokens per active sequence, drafts the next. */
  private async speculativeStep(run: Run, scope: Scope, posT: Tensor): Promise<void> {
    const v = await this.verify(run, posT);
    const next = settleDrafts(run, v);
    if (run.active.some(Boolean)) this.draftNext(run, scope, v.h, next);
  }

  /** Verify: one main forward of [cur, draft] at positions P, P+1, with every accept/reject/bonus draw read back. */
  private async verify(run: Run, posT: Tensor): Promise<Verdict> {
    const { be } = this;
    const { B, V, opts } = run;
    const { temperature, topK, topP } = opts.sampling;
    const q = run.q!;
    const draft = run.draft!;
    const d = this.c.hidden_size;
    const eCur = op.view(op.embedding(run.emb, this.curIds(run)), [B, d]);
    const eDraft = op.view(op.embedding(run.emb, be.view(draft, [B, 1])), [B, d]);
    const x = op.view(op.concatLast(eCur, eDraft), [B, 2, d]);
    const h = this.main(run.caches, x, B, 2, posT);
    const l0 = this.logits(
      h,
      Array.from({ length: B }, (_, b) => 2 * b),
      'model.norm.weight',
    );
    const l1 = this.logits(
      h,
      Array.from({ length: B }, (_, b) => 2 * b + 1),
      'model.norm.weight',
    );
    const p0 = be.samplingProbs(l0, temperature, topK, topP);
    const residW = be.specResidual(p0, q);
    const resid = be.sampleCategorical(residW, run.uniforms());
    const decision = be.specAccept(p0, q, draft, run.uniforms(), resid);
    const bonus = be.sampleCategorical(be.samplingProbs(l1, temperature, topK, topP), run.uniforms());
    // If p = q up to f32 rounding the residual can be all zero while rounding still rejected
    // the draft (exactly, acceptance was certain): then the token comes from p itself.
    const residMass = op.matmul(residW, be.fromArray(new Float64Array(V).fill(1), [V, 1]));
    const fromP = be.sampleCategorical(p0, run.uniforms());
    const lpDraft = be.tokenLogprob(l0, draft, temperature);
    const lpResid = be.tokenLogprob(l0, resid, temperature);
    const lpFromP = be.tokenLogprob(l0, fromP, temperature);
    const lpBonus = be.tokenLogprob(l1, bonus, temperature);
    const reads = await Promise.all(
      [decision, draft, resid, bonus, lpDraft, lpResid, lpBonus, residMass, fromP, lpFromP].map((t) => be.read(t)),
    );
    const [dec, drs, rsRaw, bs, lpd, lprRaw, lpb, mass, fps, lpf] = reads;
    const rs = Array.from(rsRaw, (r, b) => (mass[b] > 0 ? r : fps[b]));
    const lpr = Array.from(lprRaw, (l, b) => (mass[b] > 0 ? l : lpf[b]));
    const [lg0, lg1] = opts.keepLogits
      ? ((await Promise.all([be.read(l0), be.read(l1)])) as Float64Array[])
      : [null, null];
    run.forwards++;
    return { h, dec, drs, rs, bs, lpd, lpr, lpb, lg0, lg1 };
  }

  /** Draft the next token: MTP at positions P (and P+1 when the draft was accepted); the new q and draft outlive the step. */
  private draftNext(run: Run, scope: Scope, h: Tensor, next: DrafterInput): void {
    const { be, c } = this;
    const { B, opts } = run;
    const { temperature, topK, topP } = opts.sampling;
    const hm = this.mtp(run.mtpCache!, h, this.ids(next.ids, 2), B, 2, be.fromArray(next.before, [B], 'i32'));
    const ql = this.logits(
      hm,
      next.draftRow.map((r, b) => 2 * b + r),
      `model.layers.${mtpLayerIndex(c, 1)}.shared_head.norm.weight`,
    );
    const nq = be.samplingProbs(ql, temperature, topK, topP);
    const nd = be.sampleCategorical(nq, run.uniforms());
    scope.keep(nq, nd);
    run.q!.dispose();
    run.draft!.dispose();
    run.q = nq;
    run.draft = nd;
  }
}
