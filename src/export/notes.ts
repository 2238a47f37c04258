// What differs when an exported model runs outside the lab: each note says which consumer
// (transformers, DeepSeek's reference inference code, TorchTitan) computes something else for
// this config, and what to do. 'warn' notes change logits; 'info' notes are loading steps.

import type { ModelConfig } from '../model/config';
import type { ExportDtype } from './hf';

export interface CompatNote {
  level: 'warn' | 'info';
  text: string;
}

export function compatNotes(c: ModelConfig, dtype: ExportDtype): CompatNote[] {
  const out: CompatNote[] = [];
  const moe = c.ffn === 'moe';
  const L = c.num_hidden_layers;
  if (c.precision.linear === 'lowp') {
    out.push({
      level: 'warn',
      text: `the run computed its block linears in emulated low precision (${c.precision.format}, ${c.precision.block}-blocks); the export holds the f32 master weights, which other runtimes use at their own precision, so logits differ by the quantization rounding`,
    });
  }
  if (moe && c.scoring_func === 'softmax') {
    out.push({
      level: 'warn',
      text: "scoring_func is softmax: transformers' DeepseekV3 always scores experts with sigmoid, so its logits differ (DeepSeek's reference code follows score_func)",
    });
  }
  if (moe && c.scoring_func === 'sigmoid' && !c.norm_topk_prob) {
    out.push({
      level: 'warn',
      text: "norm_topk_prob is false: DeepSeek's reference code always normalizes sigmoid routing weights (transformers follows the flag)",
    });
  }
  if (moe && c.scoring_func === 'softmax' && c.norm_topk_prob) {
    out.push({
      level: 'warn',
      text: "norm_topk_prob is true with softmax scoring: DeepSeek's reference code never normalizes softmax routing weights",
    });
  }
  if (c.rms_norm_eps !== 1e-6) {
    out.push({
      level: 'warn',
      text: `rms_norm_eps is ${c.rms_norm_eps}: DeepSeek's reference code hard-codes 1e-6 in RMSNorm (transformers reads rms_norm_eps)`,
    });
  }
  if (moe) {
    out.push({
      level: 'info',
      text: `DeepSeek's reference code creates the router's bias (e_score_correction_bias) only when dim == 7168; with hidden_size ${c.hidden_size}, patch Gate.__init__ in inference/model.py to always create it, or loading fails on the unexpected "gate.bias"`,
    });
    if (c.n_group > 1) {
      out.push({
        level: 'info',
        text: 'transformers masks the dropped expert groups with 0.0 rather than −inf: identical routing while every kept score + bias is positive (sigmoid scores with a small bias), different otherwise',
      });
    }
  }
  if (c.num_nextn_predict_layers > 0) {
    const layers = Array.from({ length: c.num_nextn_predict_layers }, (_, k) => L + k);
    out.push({
      level: 'info',
      text: `the MTP layer${layers.length > 1 ? 's are' : ' is'} model.layers.${layers.join(', model.layers.')}: transformers loads the main model and reports these keys as unused (it ignores only DeepSeek-V3's layer 61 silently); DeepSeek's inference/convert.py skips "model.layers.61", change that to "model.layers.${L}"`,
    });
  }
  if (dtype === 'fp8') {
    const dims = [
      c.hidden_size,
      c.intermediate_size,
      c.moe_intermediate_size,
      c.kv_lora_rank,
      c.num_attention_heads * c.v_head_dim,
      ...(c.q_lora_rank > 0 ? [c.q_lora_rank] : []),
    ];
    if (dims.some((x) => x % 128 !== 0)) {
      out.push({
        level: 'info',
        text: "FP8 weights: some linear input widths are not multiples of 128, which DeepSeek's FP8 GEMM path (act_quant) requires; run the reference code with the bf16 export, or dequantize (weight × weight_scale_inv) first",
      });
    }
  }
  return out;
}
