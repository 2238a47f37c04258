// Incremental decoding with MLA's absorbed form and its latent cache (spec §1, "absorb"):
//   cache per token and layer: [c ; k_pe]  (kv_lora_rank + qk_rope_head_dim values)
//   Wb = kv_b_proj viewed [H, dn + dv, dc];  W_UK = Wb[:, :dn, :],  W_UV = Wb[:, dn:, :]
//   q~_h = q_nope_h · W_UK[h]                         (H, dc)
//   S_h  = (q~_h · c_t + q_pe_h · k_pe_t) · scale     over cached t
//   o_lat_h = softmax(S_h) · C;   o_h = o_lat_h · W_UV[h]ᵀ  (dv);   then o_proj.
// Key and value up-projections are never applied to the cache: W_UK moves into the query and
// W_UV into the output. The cache grows on the device (one concat per step, no readback).

import type { Backend } from '../engine/backend';
import * as op from '../engine/ops';
import { Scope } from '../engine/scope';
import type { Tensor } from '../engine/tensor';
import type { ModelConfig } from './config';
import { blockLinear } from './linear';
import { mlaLatent, mlaQuery, mlaScale } from './mla';
import { ffn, getter, type Params } from './model';
import { isMoeLayer, moeLayer } from './moe';

interface LayerCache {
  /** [B, t · (dc + dr)]: row b holds token 0..t−1's [c ; k_pe], concatenated. */
  kv: Tensor | null;
  wUK: Tensor; // [H, dn, dc]
  wUV: Tensor; // [H, dv, dc]
}

export class MlaDecoder {
  private readonly layers: LayerCache[] = [];
  /** Tokens decoded so far (the next token's position). */
  length = 0;
  /** Each layer's extended cache during a step, installed when the step completes. */
  private pending: Array<Tensor | null> = [];

  private constructor(private readonly be: Backend, private readonly params: Params, private readonly c: ModelConfig, readonly batch: number) {}

  /** Split each layer's kv_b_proj into the absorbed W_UK and W_UV (read once, on the host). */
  static async create(be: Backend, params: Params, c: ModelConfig, batch: number): Promise<MlaDecoder> {
    if (c.attention !== 'mla') throw new Error('MlaDecoder: the model does not use MLA');
    const d = new MlaDecoder(be, params, c, batch);
    const H = c.num_attention_heads;
    const dn = c.qk_nope_head_dim;
    const dv = c.v_head_dim;
    const dc = c.kv_lora_rank;
    for (let l = 0; l < c.num_hidden_layers; l++) {
      const wb = await getter(params)(`model.layers.${l}.self_attn.kv_b_proj.weight`).read(); // [H·(dn+dv), dc]
      const uk = new Float64Array(H * dn * dc);
      const uv = new Float64Array(H * dv * dc);
      for (let h = 0; h < H; h++) {
        const base = h * (dn + dv) * dc;
        uk.set(wb.subarray(base, base + dn * dc), h * dn * dc);
        uv.set(wb.subarray(base + dn * dc, base + (dn + dv) * dc), h * dv * dc);
      }
      d.layers.push({ kv: null, wUK: be.fromArray(uk, [H, dn, dc]), wUV: be.fromArray(uv, [H, dv, dc]) });
    }
    return d;
  }

  private attend(layer: number, h: Tensor): Tensor {
    const { c, batch: B } = this;
    const L = this.layers[layer];
    const pre = `model.layers.${layer}.self_attn`;
    const p = getter(this.params);
    const H = c.num_attention_heads;
    const dn = c.qk_nope_head_dim;
    const dr = c.qk_rope_head_dim;
    const dc = c.kv_lora_rank;
    const pos = this.length;
    const q = mlaQuery(p, c, pre, h, B, 1, pos);
    const { latent, kpe } = mlaLatent(p, c, pre, h, B, 1, pos);
    // Append this token's [c ; k_pe] to the cache.
    const entry = op.concatLast(op.view(latent, [B, dc]), op.view(kpe, [B, dr]));
    const kv = L.kv ? op.concatLast(L.kv, entry) : entry;
    const t = pos + 1;
    const cache = op.view(kv, [B, t, dc + dr]);
    // Absorb W_UK into the query: q~ [B, H, dc].
    const qNope = op.swap01(op.view(q.nope, [B, H, dn])); // [H, B, dn]
    const qLat = op.swap01(op.matmul(qNope, L.wUK)); // [B, H, dc]
    const qAbs = op.concatLast(qLat, op.view(q.pe, [B, H, dr])); // [B, H, dc + dr]
    const scores = op.scale(op.matmul(qAbs, cache, { transB: true }), mlaScale(c)); // [B, H, t]
    const probs = op.softmax(scores, null);
    const oLat = op.matmul(probs, op.sliceLast(cache, 0, dc)); // [B, H, dc]
    // Absorb W_UV into the output: o_h = o_lat_h · W_UV[h]ᵀ.
    const oh = op.swap01(op.matmul(op.swap01(oLat), L.wUV, { transB: true })); // [B, H, dv]
    this.pending[layer] = kv;
    return blockLinear(c, op.view(oh, [B, 1, H * c.v_head_dim]), p(`${pre}.o_proj.weight`));
  }

  /** Feed one token per sequence (ids i32 [B]); returns next-token logits [B, V] on the host. */
  async step(ids: Int32Array): Promise<Float64Array> {
    if (ids.length !== this.batch) throw new Error(`MlaDecoder.step: ${ids.length} ids for batch ${this.batch}`);
    const { c, be } = this;
    const p = getter(this.params);
    const old = this.layers.map((L) => L.kv);
    this.pending = this.layers.map(() => null);
    const scope = new Scope();
    try {
      let x = op.embedding(p('model.embed_tokens.weight'), be.fromArray(ids, [this.batch, 1], 'i32'));
      for (let l = 0; l < c.num_hidden_layers; l++) {
        const pre = `model.layers.${l}`;
        x = op.add(x, this.attend(l, op.rmsnorm(x, p(`${pre}.input_layernorm.weight`), c.rms_norm_eps)));
        const h = op.rmsnorm(x, p(`${pre}.post_attention_layernorm.weight`), c.rms_norm_eps);
        x = op.add(x, isMoeLayer(c, l) ? moeLayer(p, c, `${pre}.mlp`, h, null) : ffn(p, c, `${pre}.mlp`, h));
      }
      const logits = op.linear(op.rmsnorm(x, p('model.norm.weight'), c.rms_norm_eps), p('lm_head.weight'));
      for (const kv of this.pending) if (kv) scope.keep(kv);
      const out = (await logits.read()) as Float64Array;
      // Only a completed step replaces the caches.
      this.layers.forEach((L, i) => {
        L.kv = this.pending[i];
      });
      for (const t of old) t?.dispose();
      this.length++;
      return out;
    } finally {
      scope.end();
    }
  }

  /** Cache size in values per token per layer: the MLA headline (dc + dr). */
  get cacheValuesPerToken(): number {
    return this.c.kv_lora_rank + this.c.qk_rope_head_dim;
  }

  dispose(): void {
    for (const L of this.layers) {
      L.kv?.dispose();
      L.wUK.dispose();
      L.wUV.dispose();
    }
  }
}
